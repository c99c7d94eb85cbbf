"""Deciding what one payment row means, and what each person owes — in bulk.

``decide`` is a pure rule over plain values (table-tested). ``OwedBook`` loads a county's
policy for a year once and the identities of a chunk of persons in one query, and answers what
``subsidies.selectors.owed_by`` answers for each of them (late identities of last year, the
newborn and mid-year rules) with the ONE rule for arithmetic: ``subsidies.calc.owed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models.expressions import RawSQL

from enrollment.choices import EnrollmentStatus
from subsidies import benefit, calc, selectors
from subsidies.models import PolicyYear, SubsidyCategory

from ..models.tax_imports import RowOutcome

MSG_UNKNOWN = "本县花名册中没有此身份证号码的人员，请乡镇核实后在花名册登记（系统不会自动新建人员）。"
MSG_OTHER_COUNTY = "此人登记在外县，不在本县花名册中，请乡镇核实参保地。"
MSG_DUP_IN_FILE = "同一人{year}年度在文件中出现多次（另见第{row}行，税票号码{voucher}），疑似重复缴费，列为退费候选。"
MSG_DUP_CONFIRMED = "此人{year}年度已入库（税票号码{voucher}），又有一笔缴费，疑似重复缴费，列为退费候选。"
MSG_DUP_CASH = "此人{year}年度已在村里缴费（{status}），又自行在线缴费，疑似重复缴费，列为退费候选。"
MSG_DUP_CLOSED = "此人{year}年度状态为“{status}”，又有一笔缴费，列为退费候选，请核实。"
MSG_AMOUNT = "缴费金额{amount}元与应缴金额{owed}元不符（第{tier}档），请核实缴费档次和资助身份。"
MSG_NO_POLICY = "本县尚未设置{year}年度征缴政策，无法核对应缴金额。"
MSG_NO_TIER = "{year}年度没有第{tier}档。"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str
    message: str = ""
    refund_candidate: bool = False


@dataclass(frozen=True, slots=True)
class HeldIdentity:
    """What matching reads of a subsidy identity (``TierOffers.offers``), without building a
    PersonIdentity model instance for each of a county's thousands."""

    person_id: int
    category: SubsidyCategory
    year: int
    certified_on: date | None

    @property
    def category_id(self) -> int:
        return self.category.id


CONFIRM = Decision(RowOutcome.CONFIRMED)
ALREADY = Decision(RowOutcome.ALREADY_CONFIRMED)
_STATUS_LABELS = dict(EnrollmentStatus.choices)


def decide(
    *,
    year: int,
    amount: Decimal,
    voucher: str,
    online: bool,
    known: bool,
    other_county: bool = False,
    earlier_in_file: tuple[int, str] | None = None,
    status: str | None = None,
    enrolled_voucher: str = "",
    owed: Decimal | None = None,
    owed_error: str = "",
    tier: int = 1,
) -> Decision:
    """What a valid row means for the person's enrollment of ``year``.

    ``status`` is the enrollment's status (None: no enrollment row yet for the year);
    ``earlier_in_file`` the (row number, voucher) of an earlier row for the same person and year.
    """
    if not known:
        return Decision(RowOutcome.UNKNOWN_PERSON, MSG_OTHER_COUNTY if other_county else MSG_UNKNOWN)
    if earlier_in_file is not None:
        row, earlier_voucher = earlier_in_file
        if earlier_voucher == voucher:
            return ALREADY  # the same payment listed twice: nothing more happens
        return Decision(RowOutcome.DUPLICATE, MSG_DUP_IN_FILE.format(year=year, row=row, voucher=earlier_voucher or "无"), True)
    if status == EnrollmentStatus.CONFIRMED:
        if not voucher or voucher == enrolled_voucher:
            return ALREADY
        return Decision(RowOutcome.DUPLICATE, MSG_DUP_CONFIRMED.format(year=year, voucher=enrolled_voucher or "无"), True)
    if status in (EnrollmentStatus.REFUNDED, EnrollmentStatus.EXCLUDED):
        return Decision(RowOutcome.DUPLICATE, MSG_DUP_CLOSED.format(year=year, status=_STATUS_LABELS[status]), True)
    if status in (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED) and online:
        return Decision(RowOutcome.DUPLICATE, MSG_DUP_CASH.format(year=year, status=_STATUS_LABELS[status]), True)
    if owed is None:
        return Decision(RowOutcome.INVALID, owed_error or MSG_NO_POLICY.format(year=year))
    if amount != owed:
        return Decision(RowOutcome.AMOUNT_MISMATCH, MSG_AMOUNT.format(amount=amount, owed=owed, tier=tier))
    return CONFIRM


class OwedBook:
    """What residents of one county owe, per year and tier, computed in bulk.

    The answer is the one ``subsidies.selectors.owed_by`` gives for the same person, tier and
    payment date (a test holds the two together), without its queries per person: the policy of
    a year is read once, the identities of a chunk of persons in one query
    (``selectors.identities_of``: this year's, and last year's certified after last year's window),
    offers are built by the selectors' own ``TierOffers``, the newborn rule is
    ``benefit.pays_as_newborn`` and the amount is ``selectors.owed_for`` itself (the policy's
    tiers are prefetched, so it reads no standard per call).
    """

    MEMO_SIZE = 200_000
    # The policies are read in the caller's thread before rows are matched (see services.run_filing).

    def __init__(self, county):
        self.county = county
        self._policies: dict[int, dict | None] = {}
        self._tier_offers: dict[tuple[int, int], selectors.TierOffers] = {}
        self._held: dict[tuple[int, int], list] = {}
        self._base: dict[tuple[int, int], list] = {}  # held for the whole import (hold_identities)
        self._memo: dict[tuple, calc.Owed] = {}

    def policy(self, year: int) -> dict | None:
        if year not in self._policies:
            # Tiers prefetched: selectors.owed_for then reads the standard without a query.
            policy = PolicyYear.objects.filter(county=self.county, year=year).prefetch_related("tiers").first()
            self._policies[year] = None if policy is None else {
                "policy": policy,
                "rules": benefit.CoverRules.from_policy(policy),
                "tiers": {t.number: (t.standard, t.student_standard) for t in policy.tiers.all()},
            }
        return self._policies[year]

    def load_identities(self, person_ids, years) -> None:
        """One query per benefit year of the chunk (normally one) for the identities of its persons."""
        self._held = dict(self._base)
        person_ids = list(person_ids)
        if not person_ids:
            return
        for year in years:
            data = self.policy(year)
            if data is None:
                continue
            for ident in selectors.identities_of(persons=person_ids, policy=data["policy"]):
                self._held.setdefault((ident.person_id, year), []).append(ident)

    _IDENTITY_COLUMNS = ("person_id", "year", "category_id", "certified_on")

    def identity_query(self, year: int):
        """``selectors.identities_of`` for ``year`` as (sql, params, index of the person-id array
        parameter), for a caller that runs it on its own cursor (PostgreSQL's writer thread);
        None without a policy. Pass the rows back through ``set_identities``."""
        data = self.policy(year)
        if data is None:
            return None
        if "identity_sql" not in data:
            marker = [-1]
            qs = selectors.identities_of(
                persons=RawSQL("SELECT unnest(%s::bigint[])", [marker]), policy=data["policy"]
            ).values_list(*self._IDENTITY_COLUMNS)
            sql, params = qs.query.sql_with_params()
            index = next(i for i, p in enumerate(params) if p is marker)
            data["identity_sql"] = (sql, list(params), index)
            data["identity_categories"] = {
                c.id: c
                for c in SubsidyCategory.objects.filter(policy__county=self.county, policy__year__in=[year, year - 1])
            }
        return data["identity_sql"]

    def set_identities(self, rows_by_year: dict) -> None:
        """The identities of a chunk from ``identity_query`` rows: {year: [(person id, year,
        category id, certified on), …]} in the query's order (with those of ``hold_identities``)."""
        self._held = dict(self._base)
        self._held.update(self._identities(rows_by_year))

    def hold_identities(self, rows_by_year: dict) -> None:
        """Like ``set_identities``, for every chunk after it: the county roster's identities
        (tax_import.roster), which later chunks of persons outside the roster only add to."""
        self._base = self._identities(rows_by_year)
        self._held = dict(self._base)

    def _identities(self, rows_by_year: dict) -> dict:
        held: dict[tuple[int, int], list] = {}
        for year, rows in rows_by_year.items():
            cats = self._policies[year]["identity_categories"]
            for pid, ident_year, cat_id, certified_on in rows:
                held.setdefault((pid, year), []).append(HeldIdentity(pid, cats[cat_id], ident_year, certified_on))
        return held

    def owed(
        self, person_id: int, year: int, tier: int, student: bool = False, birth_date=None, paid_on=None,
    ) -> tuple[Decimal | None, calc.Owed | None, str]:
        """(self-pay, Owed, error message) for a person of the last loaded chunk, paying on ``paid_on``.
        Called for each row of a filing: the arguments may be given by position."""
        data = self._policies.get(year) or self.policy(year)
        if data is None:
            return None, None, MSG_NO_POLICY.format(year=year)
        if tier not in data["tiers"]:
            return None, None, MSG_NO_TIER.format(year=year, tier=tier)
        newborn = benefit.pays_as_newborn(birth_date, paid_on, data["rules"])
        held = self._held.get((person_id, year))
        held_key = tuple((i.category_id, i.year, i.certified_on) for i in held) if held else None
        key = (year, tier, student, held_key, paid_on, newborn)
        result = self._memo.get(key)
        if result is None:
            policy = data["policy"]
            if (year, tier) not in self._tier_offers:
                self._tier_offers[(year, tier)] = selectors.TierOffers.load(policy, tier)
            offers = self._tier_offers[(year, tier)].offers(policy=policy, identities=held or ())
            result = selectors.owed_for(
                policy=policy, tier=tier, offers=offers, student=student, paid_on=paid_on, newborn=newborn
            )
            if len(self._memo) < self.MEMO_SIZE:
                self._memo[key] = result
        return result.self_pay, result, ""


def as_date(value):
    """Raw SQLite rows hold dates as text."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value
