"""Declarations for the tax office (申报表): which paid and zero-amount residents a unit declares."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.access import require
from core.choices import RegionLevel
from core.models import Region, User
from core.money import ZERO
from core.scoping import ensure_region_visible
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Person
from enrollment.owed import identities_of, owed_by_persons
from subsidies.book import OwedBook
from subsidies.selectors import PolicyMissing

from .. import lifecycle
from ..choices import ReceiptStatus
from ..models import Declaration, DeclarationLine, ReceiptLine

ERR_DECLARE_REGION = "只能按村/社区或乡镇/街道申报。"
ERR_NOTHING_TO_DECLARE = "{unit}{year}年度没有待申报的人员（已收款或零申报）。"
ERR_PREVIEW_CHANGED = "预览之后待申报的人员有变化（有人收款、作废或改了资助身份），请按新的预览重新核对后再生成。"
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class DeclarationPreview:
    """What ``declaration_create`` would declare now: the unit, how many persons (of whom how
    many 零申报), the total, the first rows in the form's order, and a ``fingerprint`` of exactly
    these rows that the confirmed generation must still match."""

    region: Region
    year: int
    person_count: int
    zero_count: int
    total: Decimal
    first: list
    fingerprint: str


def _units(region: Region) -> tuple[Region, list[Region]]:
    """The declaring township and the villages a declaration of ``region`` covers."""
    if region.level == RegionLevel.VILLAGE:
        return region.parent, [region]
    if region.level == RegionLevel.TOWNSHIP:
        return region, list(region.villages())
    raise ValidationError(ERR_DECLARE_REGION)


def _paid_q(villages, year) -> Q:
    return Q(village__in=villages, year=year, status=EnrollmentStatus.PAID)


def _fingerprint(rows) -> str:
    """The rows a declaration holds, as one short string (enrollments, the persons of new 零申报
    rows, their amounts)."""
    keys = sorted(f"{e.pk or ''}:{e.person_id}:{e.amount_due or ZERO}" for e in rows)
    return hashlib.sha256("|".join(keys).encode()).hexdigest()[:20]


def declaration_preview(*, actor: User, region: Region, year: int, first: int = PREVIEW_ROWS) -> DeclarationPreview:
    """What a declaration of ``region`` for ``year`` would hold, read without locks or writes
    (the page shows it before the clerk confirms). Refused as ``declaration_create`` refuses."""
    require(actor, "declaration.manage")
    ensure_region_visible(actor, region)
    township, villages = _units(region)
    book = OwedBook(township.county)
    paid = list(Enrollment.objects.filter(_paid_q(villages, year)).select_related("person").order_by("village_id", "person_id"))
    zero_persons = _zero_amount_candidates(villages, year, book)
    existing = {e.person_id: e for e in Enrollment.objects.filter(person__in=zero_persons.values("pk"), year=year)}
    rows = paid + _zero_amount_enrollments(zero_persons, year, existing, book)
    if not rows:
        raise ValidationError(ERR_NOTHING_TO_DECLARE.format(unit=region.name, year=year))
    return DeclarationPreview(
        region=region, year=year, person_count=len(rows), zero_count=sum(1 for e in rows if not e.amount_due),
        total=sum((e.amount_due or ZERO for e in rows), ZERO), first=rows[:first], fingerprint=_fingerprint(rows),
    )


@transaction.atomic
def declaration_create(*, actor: User, region: Region, year: int, expect: str | None = None) -> Declaration:
    """Declare a village's (or a whole township's) paid and fully subsidised persons to the tax office.
    Paid enrollments become declared; fully subsidised persons get a zero-amount row (零申报).
    ``expect``, the fingerprint of the preview the clerk confirmed: refused if the rows differ now."""
    require(actor, "declaration.manage")
    ensure_region_visible(actor, region)
    township, villages = _units(region)
    today = timezone.localdate()
    # The lifecycle's order: the paid persons' valid receipts, then the persons' enrollments, each
    # by primary key; the status read again under the lock (a receipt voided meanwhile is skipped).
    paid_q = _paid_q(villages, year)
    book = OwedBook(township.county)
    zero_persons = _zero_amount_candidates(villages, year, book)
    held = lifecycle.lock(
        receipts=ReceiptLine.objects.filter(
            enrollment__in=Enrollment.objects.filter(paid_q).values("pk"), receipt__status=ReceiptStatus.VALID
        ).values("receipt_id"),
        enrollments=Enrollment.objects.filter(paid_q | Q(person__in=zero_persons.values("pk"), year=year)).values("pk"),
    )
    paid = sorted(
        (e for e in held.enrollments if e.status == EnrollmentStatus.PAID), key=lambda e: (e.village_id, e.person_id)
    )
    zero = _zero_amount_enrollments(zero_persons, year, {e.person_id: e for e in held.enrollments}, book)
    if not paid and not zero:
        raise ValidationError(ERR_NOTHING_TO_DECLARE.format(unit=region.name, year=year))
    if expect is not None and expect != _fingerprint(paid + zero):
        raise ValidationError(ERR_PREVIEW_CHANGED)
    declaration = Declaration.objects.create(
        township=township,
        village=region if region.level == RegionLevel.VILLAGE else None,
        year=year,
        created_by=actor,
    )
    total = ZERO
    rows = paid + zero
    for e in rows:
        e.status = EnrollmentStatus.DECLARED
        e.declared_on = today
        e.save()
        amount = e.amount_due or ZERO
        total += amount
        DeclarationLine.objects.create(
            declaration=declaration,
            enrollment=e,
            village_id=e.village_id,
            name=e.person.name,
            id_number=e.person.id_number,
            tier=e.tier,
            amount=amount,
            subsidy_category_code=e.subsidy_category_code,
        )
    declaration.person_count = len(rows)
    declaration.zero_count = sum(1 for e in rows if not e.amount_due)
    declaration.total = total
    declaration.save()
    return declaration


def _zero_amount_candidates(villages, year, book: OwedBook):
    """Persons who may owe nothing after subsidy: those holding an identity that counts for the
    year (this year's, or last year's certified after last year's window)."""
    policy = book.policy(year)
    if policy is None:
        return Person.objects.none()
    living = Person.objects.filter(household__village__in=villages, is_deceased=False)
    holding = identities_of(persons=living.values("pk"), policy=policy).values("person_id")
    return living.filter(pk__in=holding).select_related("household").order_by("household__village_id", "pk")


def _zero_amount_enrollments(candidates, year, existing: dict, book: OwedBook) -> list[Enrollment]:
    """Persons owing nothing after subsidy who are not yet declared: their enrollment set up for
    零申报. ``existing`` holds their enrollments of the year, locked, by person id. What each owes
    is asked once for all of them (a township's candidates are thousands)."""
    pending = [
        (person, existing.get(person.pk))
        for person in candidates
        if existing.get(person.pk) is None or existing[person.pk].status == EnrollmentStatus.PENDING
    ]
    tiers = {person.pk: e.tier for person, e in pending if e is not None}
    try:
        owed_of = owed_by_persons(persons=[p for p, _ in pending], year=year, tiers=tiers, book=book)
    except PolicyMissing:
        return []
    out = []
    for person, e in pending:
        owed = owed_of[person.pk]
        if owed.self_pay > 0:
            continue
        if e is None:
            e = Enrollment(person=person, year=year, village_id=person.household.village_id, tier=1)
        e.person = person
        e.standard, e.subsidy, e.amount_due = owed.standard, owed.subsidy, ZERO
        e.subsidy_category_code = owed.category.code if owed.category else ""
        out.append(e)
    return out
