"""Roster reads. Every selector starts from ``visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery

from core import disclosure, history, idcard
from core.choices import RegionLevel
from core.models import Region
from subsidies import benefit
from subsidies import selectors as subsidy_selectors
from subsidies.models import PolicyYear

from . import owed as roster_owed
from . import rules
from .choices import PAID_STATUSES
from .models import Enrollment, Household, HouseholdNotice, Person, PersonIdentity

POLICY_MISSING = "尚未设置政策"


def persons_with_status(*, user, year: int):
    """Visible persons, each annotated with their ``year`` enrollment (status, reason, tier).

    One query per page whatever the county's size: the enrollment columns are correlated
    subqueries on the (person, year) unique index.
    """
    this_year = Enrollment.objects.filter(person=OuterRef("pk"), year=year)
    return (
        Person.objects.visible_to(user)
        .select_related("household__village")
        .annotate(
            year_status=Subquery(this_year.values("status")[:1]),
            year_reason=Subquery(this_year.values("exclusion_reason")[:1]),
            year_tier=Subquery(this_year.values("tier")[:1]),
        )
    )


def villages_for(user, *, township=None):
    qs = Region.objects.visible_to(user).filter(level=RegionLevel.VILLAGE)
    if township is not None:
        qs = qs.filter(parent=township)
    return qs.select_related("parent").annotate(household_count=Count("households")).order_by("sort_order", "code")


def townships_for(user):
    return Region.objects.visible_to(user).filter(level=RegionLevel.TOWNSHIP).order_by("sort_order", "code")


def visible_region(user, pk, level):
    if pk in (None, ""):
        return None
    try:
        return Region.objects.visible_to(user).select_related("parent__parent").get(pk=int(pk), level=level)
    except (Region.DoesNotExist, ValueError, TypeError):
        return None


def households_visible(user):
    return Household.objects.visible_to(user).select_related("village__parent__parent")


@dataclass
class OwedView:
    standard: Decimal | None = None
    subsidy: Decimal | None = None
    self_pay: Decimal | None = None
    category: str = ""
    missing: str = ""  # why nothing could be computed


def owed_for_members(persons, *, year: int) -> dict[int, OwedView]:
    """What each person owes for the year at their enrolled tier (persons carry ``this_year``
    enrollments), computed together so a household costs a few queries, not a few per member."""

    if not persons:
        return {}
    tiers = {p.pk: p.this_year[0].tier for p in persons if p.this_year}
    try:
        owed = roster_owed.owed_by_persons(persons=persons, year=year, tiers=tiers)
    except subsidy_selectors.PolicyMissing:
        return {p.pk: OwedView(missing=POLICY_MISSING) for p in persons}
    return {
        pk: OwedView(standard=o.standard, subsidy=o.subsidy, self_pay=o.self_pay, category=o.category.name if o.category else "")
        for pk, o in owed.items()
    }


@dataclass
class MemberRow:
    person: Person
    enrollment: Enrollment | None
    owed: OwedView | None

    @property
    def status(self):
        return self.enrollment.status if self.enrollment else None

    @property
    def is_gap(self) -> bool:
        return rules.is_gap(is_deceased=self.person.is_deceased, status=self.status)


def household_members(household: Household, *, year: int, with_owed: bool = True) -> list[MemberRow]:
    """Members in order (head first), each with their ``year`` enrollment and what they owe."""
    relation_order = {"head": 0, "spouse": 1}
    members = (
        household.members.select_related("household__village__parent__parent")
        .prefetch_related(Prefetch("enrollments", queryset=Enrollment.objects.filter(year=year), to_attr="this_year"))
        .order_by("id")
    )
    members = sorted(members, key=lambda p: (relation_order.get(p.relation, 2), p.pk))
    owing = [p for p in members if not p.is_deceased and not (p.this_year and p.this_year[0].status == "excluded")]
    owed = owed_for_members(owing, year=year) if with_owed else {}
    rows = []
    for p in members:
        enrollment = p.this_year[0] if p.this_year else None
        rows.append(MemberRow(person=p, enrollment=enrollment, owed=owed.get(p.pk)))
    return rows


def whole_household_required(village, year: int) -> bool:
    """Whether the county's policy for the year requires a household register to enrol together
    (Gaoyang: 同一户口簿成员须同时参保)."""

    return PolicyYear.objects.filter(county=village.county, year=year, whole_household_rule=True).exists()


def household_split(rows: list[MemberRow]) -> bool:
    return rules.household_is_split([(r.person.is_deceased, r.status) for r in rows])


def household_total(rows: list[MemberRow]) -> Decimal | None:
    amounts = [r.owed.self_pay for r in rows if r.owed and r.owed.self_pay is not None and not rules.is_enrolled(r.status)]
    return sum(amounts, Decimal("0.00")) if amounts else None


def notice_for(household: Household, year: int) -> HouseholdNotice | None:
    return HouseholdNotice.objects.filter(household=household, year=year).first()


# --- History (rendered by core.history, the one rule for every history list) --------------------

def _status_label(status) -> str:
    return str(dict(Enrollment._meta.get_field("status").flatchoices).get(status, status))


def person_history(person: Person, *, viewer, limit: int = 50) -> list[history.Change]:
    """A person's changes and their enrollments', newest first; ID numbers masked for everyone (a
    full number is revealed on its own, audited), birth dates as ``viewer`` may see them."""
    records = list(person.history.select_related("history_user").order_by("-history_date")[:limit])
    records += list(
        Enrollment.history.filter(person_id=person.pk).select_related("history_user").order_by("-history_date")[:limit]
    )
    records.sort(key=lambda r: r.history_date, reverse=True)

    def what(r):
        if r.instance_type is Enrollment:
            return f"{r.year}年度参保：{_status_label(r.status)}"
        return "个人信息"

    return history.changes_of(records, what=what, limit=limit, shown=disclosure.for_viewer(viewer, full_ids=None))


def household_history(household: Household, *, viewer, limit: int = 80) -> list[history.Change]:
    member_ids = set(Person.history.filter(household_id=household.pk).values_list("id", flat=True))
    records = list(household.history.select_related("history_user").order_by("-history_date")[:limit])
    records += list(
        Person.history.filter(id__in=member_ids).select_related("history_user").order_by("-history_date")[:limit]
    )
    records += list(
        Enrollment.history.filter(person_id__in=member_ids).select_related("history_user").order_by("-history_date")[:limit]
    )
    records += list(
        HouseholdNotice.history.filter(household_id=household.pk).select_related("history_user").order_by("-history_date")[:limit]
    )
    records.sort(key=lambda r: r.history_date, reverse=True)

    def what(r):
        t = r.instance_type
        if t is Household:
            return "户信息"
        if t is Person:
            return f"成员 {r.name}"
        if t is Enrollment:
            return f"{r.year}年度参保（{_status_label(r.status)}）"
        return f"{r.year}年度告知书/承诺书"

    return history.changes_of(records, what=what, limit=limit, shown=disclosure.for_viewer(viewer, full_ids=None))


def roster_search(qs, q: str, *, viewer=None):
    """Name, ID number (full, or its last digits) or household number.

    Each kind of term gets the condition its index can answer: a full ID the unique index,
    digits the household number (and the ID's tail), anything else the name. An ID is matched
    only as far as ``viewer`` may see it (``disclosure.id_lookup``).
    """

    q = (q or "").strip()
    if not q:
        return qs
    try:
        norm = idcard.normalize(q)
    except idcard.IdNumberError:
        norm = q
    shown = disclosure.for_viewer(viewer)
    if len(norm) == 18 and norm[:17].isdigit():
        return qs.filter(disclosure.id_lookup("id_number", norm, shown))
    if norm[:-1].isdigit() and (norm[-1].isdigit() or norm[-1] == "X"):
        cond = Q(household__number=q)
        if 4 <= len(norm) <= 6:
            cond |= Q(id_number__endswith=norm)
        elif len(norm) > 6:
            cond |= disclosure.id_lookup("id_number", norm, shown, prefix=True)
        return qs.filter(cond)
    return qs.filter(Q(name__contains=q) | Q(household__number=q))


def identities_visible_to(user):
    """Identities in the user's region; a department user only those of its own categories."""
    qs = PersonIdentity.objects.visible_to(user).select_related("person", "category__policy__county")
    if getattr(user, "role", None) == "department" and not user.is_superuser:
        qs = qs.filter(category__department=user.department)
    return qs.order_by("-year", "category__sort_order", "person__name", "pk")


def gap_persons(persons, *, year: int):
    """The gaps (``rules.is_gap``) among ``persons`` for ``year``: living, with no enrollment
    settled by ``rules.SETTLED_STATUSES``. The dashboards' gap figures and gap list count these."""
    settled = Enrollment.objects.filter(person=OuterRef("pk"), year=year, status__in=rules.SETTLED_STATUSES)
    return persons.filter(is_deceased=False).filter(~Exists(settled))


def gap_condition(status_field: str = "year_status") -> Q:
    """``rules.is_gap`` on persons annotated with the year's status (``persons_with_status``):
    the roster's 缺口 filter; the same persons as ``gap_persons``."""
    unsettled = Q(**{f"{status_field}__isnull": True}) | ~Q(**{f"{status_field}__in": rules.SETTLED_STATUSES})
    return Q(is_deceased=False) & unsettled


def gap_households(*, village: Region, year: int):
    """Ids of the village's households with a gap (``gap_persons``) for ``year``, as a subquery."""
    return gap_persons(Person.objects.filter(household__village=village), year=year).values("household_id")


@dataclass(frozen=True)
class Incentive:
    continuous_years: int  # paid years without a break right before ``year``
    raise_amount: Decimal  # the critical-illness cap raise of paying ``year``


def incentive_of(person: Person, year: int, enrollments) -> Incentive | None:
    """The continuous-enrolment incentive of paying ``year``, from the person's years on record
    (``enrollments``, already read by the page); None where the county has no policy for the
    year. Zero-claim years need the settlement data, which the portal does not hold."""
    try:
        policy = subsidy_selectors.policy_by_code(county_code=person.household.village.county.code, year=year)
    except subsidy_selectors.PolicyMissing:
        return None
    paid = {e.year for e in enrollments if e.status in PAID_STATUSES and e.year < year}
    continuous = 0
    while year - continuous - 1 in paid:
        continuous += 1
    history = [benefit.YearRecord(enrolled=True) for _ in range(continuous + 1)]
    return Incentive(continuous, subsidy_selectors.incentive_for(policy, history))
