"""Reads of publicity: whom a village's paid list names, and where each village stands.

Whom the list names is the county's setting (``PolicyYear.publicity_payers``, rules in
``subsidies.postings``): everyone the tax office confirmed in treasury, whatever the channel
(Neixiang posts the tax office's list), or the residents who paid a collector in cash
(Shizhu). Only the last 4 digits of an ID number ever leave here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef

from core import idcard
from core.models import Region
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from subsidies import workdays
from subsidies.choices import PublicityPayers
from subsidies.postings import MSG_PAYERS_UNSET, PostingRules, PostingState, posting_state, schedule_years
from subsidies.selectors import posting_rules, posting_rules_by_county

from ..choices import ReceiptStatus
from ..models import PublicityPosting, ReceiptLine


def cash_payer_rows(*, village: Region, year: int) -> list[dict]:
    """The cash payers of a village: name, last 4 ID digits, tier, amount (valid receipts only)."""
    lines = (
        ReceiptLine.objects.filter(receipt__village=village, receipt__year=year, receipt__status=ReceiptStatus.VALID)
        .order_by("receipt__issued_at", "id")
        .values("name", "id_number", "person_id", "person__id_number", "tier", "amount", "receipt__issued_on")
    )
    # The person's current ID number: a number corrected after payment (a failed declaration
    # row fixed against the ID card) is posted as corrected, not as typed on the receipt.
    return [
        {
            "name": ln["name"],
            "last4": idcard.last4(ln["person__id_number"] or ln["id_number"]),
            "tier": ln["tier"],
            "amount": ln["amount"],
            "paid_on": ln["receipt__issued_on"],
            "person_id": ln["person_id"],
        }
        for ln in lines
    ]


def confirmed_payer_rows(*, village: Region, year: int) -> list[dict]:
    """Everyone of the village the tax office confirmed in treasury (入库) for the year, by any
    channel (online, bank, cash): the tax office's list of payers."""
    rows = (
        Enrollment.objects.filter(village=village, year=year, status=EnrollmentStatus.CONFIRMED)
        .order_by("person__household__number", "person_id")
        .values("person_id", "person__name", "person__id_number", "tier", "amount_due", "paid_on")
    )
    return [
        {
            "name": e["person__name"],
            "last4": idcard.last4(e["person__id_number"]),
            "tier": e["tier"],
            "amount": e["amount_due"] if e["amount_due"] is not None else Decimal("0.00"),
            "paid_on": e["paid_on"],
            "person_id": e["person_id"],
        }
        for e in rows
    ]


def every_payer_rows(*, village: Region, year: int) -> list[dict]:
    """Everyone of the village known to have paid for the year: confirmed in treasury, then the
    cash payers the tax office has not confirmed yet (a person once)."""
    confirmed = confirmed_payer_rows(village=village, year=year)
    seen = {r["person_id"] for r in confirmed}
    return confirmed + [r for r in cash_payer_rows(village=village, year=year) if r["person_id"] is None or r["person_id"] not in seen]


ROWS = {PublicityPayers.ALL: confirmed_payer_rows, PublicityPayers.CASH: cash_payer_rows, PublicityPayers.PAID: every_payer_rows}


def payers_of(rules: PostingRules | None) -> str:
    """Whom the list names: the county's setting; everyone known to have paid where it sets none."""
    return rules.lists if rules is not None else PublicityPayers.PAID


def publicity_rows(*, village: Region, year: int, payers: str | None = None) -> list[dict]:
    """The paid list of a village: the county's kind unless ``payers`` names one."""
    payers = payers or payers_of(posting_rules(village.county, year))
    return ROWS[PublicityPayers(payers)](village=village, year=year)


@dataclass(frozen=True)
class Sheet:
    """The list a village prints, with what the page says about it."""

    payers: str
    rows: list[dict]
    total: Decimal
    rules: PostingRules | None
    notices: tuple[str, ...]

    @property
    def payers_label(self) -> str:
        return PublicityPayers(self.payers).label


def publicity_sheet(*, village: Region, year: int) -> Sheet:
    rules = posting_rules(village.county, year)
    payers = payers_of(rules)
    rows = ROWS[PublicityPayers(payers)](village=village, year=year)
    notices = () if rules is not None and rules.payers else (MSG_PAYERS_UNSET,)
    return Sheet(payers, rows, sum((r["amount"] for r in rows), Decimal("0.00")), rules, notices)


@dataclass(frozen=True)
class VillageStanding:
    village: Region
    payers: str
    count: int
    postings: list
    state: PostingState | None


def publicity_overview(*, user, year: int, today: date) -> dict:
    """Every village the user sees: whom its list names, how many, its postings, and whether
    the full or the periodic posting is late; the counties' settings; the calendar warnings."""
    villages = list(
        Region.objects.visible_to(user).villages().select_related("parent").order_by("parent__code", "sort_order", "code")
    )
    county_of = {v.pk: v.parent.parent_id for v in villages}
    rules = posting_rules_by_county(set(county_of.values()), year)
    kind = {v.pk: payers_of(rules.get(county_of[v.pk])) for v in villages}
    by_kind = {k: [pk for pk, x in kind.items() if x == k] for k in PublicityPayers.values}
    counts: dict[int, int] = {}
    if by_kind[PublicityPayers.CASH]:
        counts.update(
            ReceiptLine.objects.filter(
                receipt__village_id__in=by_kind[PublicityPayers.CASH], receipt__year=year, receipt__status=ReceiptStatus.VALID
            )
            .values_list("receipt__village_id")
            .annotate(n=Count("id"))
        )
    if by_kind[PublicityPayers.ALL]:
        counts.update(
            Enrollment.objects.filter(village_id__in=by_kind[PublicityPayers.ALL], year=year, status=EnrollmentStatus.CONFIRMED)
            .values_list("village_id")
            .annotate(n=Count("id"))
        )
    paid = by_kind[PublicityPayers.PAID]
    if paid:
        # Everyone known to have paid: the confirmed, then cash lines of persons not confirmed (every_payer_rows)
        confirmed = Enrollment.objects.filter(person_id=OuterRef("person_id"), year=year, status=EnrollmentStatus.CONFIRMED)
        for village_id, n in (
            Enrollment.objects.filter(village_id__in=paid, year=year, status=EnrollmentStatus.CONFIRMED)
            .values_list("village_id").annotate(n=Count("id"))
        ):
            counts[village_id] = counts.get(village_id, 0) + n
        for village_id, n in (
            ReceiptLine.objects.filter(receipt__village_id__in=paid, receipt__year=year, receipt__status=ReceiptStatus.VALID)
            .exclude(Exists(confirmed))
            .values_list("receipt__village_id").annotate(n=Count("id"))
        ):
            counts[village_id] = counts.get(village_id, 0) + n
    postings: dict[int, list] = {}
    for p in PublicityPosting.objects.visible_to(user).filter(year=year).order_by("posted_from"):
        postings.setdefault(p.village_id, []).append(p)
    standings, years = [], set()
    for v in villages:
        r = rules.get(county_of[v.pk])
        mine = postings.get(v.pk, [])
        state = posting_state(r, [p.posted_from for p in mine], today=today) if r is not None else None
        if r is not None:
            years |= schedule_years(r, state)
        years |= {d.year for p in mine for d in (p.posted_from, p.posted_until)}
        standings.append(VillageStanding(v, kind[v.pk], counts.get(v.pk, 0), mine, state))
    counties = {c.pk: c for c in Region.objects.filter(pk__in=list(rules))}
    return {
        "rows": standings,
        "counties": [(counties[pk], r) for pk, r in sorted(rules.items(), key=lambda kv: counties[kv[0]].code)],
        "notices": (MSG_PAYERS_UNSET,) if any(not r.payers for r in rules.values()) else (),
        "warnings": workdays.schedule_warnings(years),
    }
