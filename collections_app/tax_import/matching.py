"""Deciding what one payment row means, and what each person owes — in bulk.

``decide`` is a pure rule over plain values (table-tested). ``OwedBook`` loads a county's
policy for a year once and the identities of a chunk of persons in one query, then applies
the ONE rule for arithmetic: ``subsidies.calc.owed`` (best single subsidy, never stacked).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from enrollment.choices import EnrollmentStatus
from subsidies import calc
from subsidies.models import CategorySubsidy, PersonIdentity, PolicyYear, SubsidyCategory

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
    """What residents of one county owe, per year and tier, computed in bulk."""

    def __init__(self, county):
        self.county = county
        self._policies: dict[int, dict | None] = {}
        self._identities: dict[tuple[int, int], tuple] = {}
        self._memo: dict[tuple, calc.Owed] = {}

    def policy(self, year: int) -> dict | None:
        if year not in self._policies:
            policy = PolicyYear.objects.filter(county=self.county, year=year).first()
            if policy is None:
                self._policies[year] = None
            else:
                cats = {c.id: c for c in SubsidyCategory.objects.filter(policy=policy)}
                amounts = {
                    (cs.category_id, cs.tier): cs.amount for cs in CategorySubsidy.objects.filter(category__policy=policy)
                }
                self._policies[year] = {
                    "policy": policy,
                    "tiers": {t.number: (t.standard, t.student_standard) for t in policy.tiers.all()},
                    "categories": cats,
                    "universal": [c for c in cats.values() if c.applies_to_all],
                    "amounts": amounts,
                }
        return self._policies[year]

    IDENTITY_SQL = "SELECT person_id, year, category_id, certified_on FROM {identity} WHERE person_id {IN}"

    def load_identities(self, person_ids, years, *, select_in=None) -> None:
        """One query for the identities of a chunk of persons."""
        self._identities = {}
        found: dict[tuple[int, int], list] = {}
        if select_in is not None:
            rows = [
                (pid, year, cat_id, _as_date(certified_on))
                for pid, year, cat_id, certified_on in select_in(self.IDENTITY_SQL, person_ids)
                if year in years
            ]
        else:
            rows = PersonIdentity.objects.filter(person_id__in=list(person_ids), year__in=list(years)).values_list(
                "person_id", "year", "category_id", "certified_on"
            )
        for pid, year, cat_id, certified_on in rows:
            found.setdefault((pid, year), []).append((cat_id, certified_on))
        self._identities = {k: tuple(sorted(v)) for k, v in found.items()}

    def owed(self, *, person_id: int, year: int, tier: int, student: bool = False) -> tuple[Decimal | None, calc.Owed | None, str]:
        """(self-pay, Owed, error message)."""
        data = self.policy(year)
        if data is None:
            return None, None, MSG_NO_POLICY.format(year=year)
        if tier not in data["tiers"]:
            return None, None, MSG_NO_TIER.format(year=year, tier=tier)
        idents = self._identities.get((person_id, year), ())
        key = (year, tier, student, idents)
        result = self._memo.get(key)
        if result is None:
            standard, student_standard = data["tiers"][tier]
            if student and student_standard is not None:
                standard = student_standard
            offers = []
            amounts, cats = data["amounts"], data["categories"]
            for cat_id, certified_on in idents:
                if (cat_id, tier) in amounts:
                    offers.append(_offer(cats[cat_id], amounts[(cat_id, tier)], certified_on))
            for cat in data["universal"]:
                if (cat.id, tier) in amounts:
                    offers.append(_offer(cat, amounts[(cat.id, tier)], None))
            result = calc.owed(standard, offers, window_end=data["policy"].window_end)
            self._memo[key] = result
        return result.self_pay, result, ""


def _as_date(value):
    """Raw SQLite rows hold dates as text."""
    if isinstance(value, str):
        from datetime import date

        return date.fromisoformat(value[:10])
    return value


def _offer(cat, amount, certified_on) -> calc.CategoryOffer:
    return calc.CategoryOffer(code=cat.code, name=cat.name, amount=amount, certified_on=certified_on, applies_to_all=cat.applies_to_all)
