"""Deciding what one payment row means, and what each person owes — in bulk.

``decide`` is a pure rule over plain values (table-tested). ``FilingBook`` asks the one book of
what is owed (``subsidies.book.OwedBook``) with the identities of a chunk of persons, read in
one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models.expressions import RawSQL

from enrollment.choices import EnrollmentStatus
from enrollment.owed import identities_of
from subsidies import calc
from subsidies.book import HeldIdentity, OwedBook
from subsidies.models import PolicyYear, SubsidyCategory
from subsidies.selectors import ERR_NO_TIER, PolicyMissing

from ..models.tax_imports import RowOutcome

MSG_UNKNOWN = "本县花名册中没有此身份证号码的人员，请乡镇核实后在花名册登记（系统不会自动新建人员）。"
MSG_OTHER_COUNTY = "此人登记在外县，不在本县花名册中，请乡镇核实参保地。"
MSG_DUP_IN_FILE = "同一人{year}年度在文件中出现多次（另见第{row}行，税票号码{voucher}），疑似重复缴费，列为退费候选。"
MSG_DUP_CONFIRMED = "此人{year}年度已入库（税票号码{voucher}），又有一笔缴费，疑似重复缴费，列为退费候选。"
MSG_DUP_CASH = "此人{year}年度已在村里缴费（{status}），又自行在线缴费，疑似重复缴费，列为退费候选。"
MSG_DUP_CLOSED = "此人{year}年度状态为“{status}”，又有一笔缴费，列为退费候选，请核实。"
MSG_AMOUNT = "缴费金额{amount}元与应缴金额{owed}元不符（第{tier}档），请核实缴费档次和资助身份。"
MSG_NO_POLICY = "本县尚未设置{year}年度征缴政策，无法核对应缴金额。"
MSG_NO_TIER = ERR_NO_TIER


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


class FilingBook:
    """What each person of a filing owes: the one book (``subsidies.book.OwedBook``) asked with
    the identities of the chunk of persons being matched, read in one query per benefit year
    (``enrollment.owed.identities_of``: this year's, and last year's certified after last year's
    window) or on PostgreSQL's writer thread (``identity_query``)."""

    # The policies are read in the caller's thread before rows are matched (see persons.ChunkReads.queue).

    def __init__(self, county):
        self.county = county
        self.book = OwedBook(county)
        self._held: dict[tuple[int, int], list] = {}
        self._base: dict[tuple[int, int], list] = {}  # held for the whole import (hold_identities)
        self._queries: dict[int, tuple] = {}
        self._categories: dict[int, dict] = {}

    def policy(self, year: int) -> PolicyYear | None:
        return self.book.policy(year)

    def load_identities(self, person_ids, years) -> None:
        """One query per benefit year of the chunk (normally one) for the identities of its persons."""
        self._held = dict(self._base)
        person_ids = list(person_ids)
        if not person_ids:
            return
        for year in years:
            policy = self.policy(year)
            if policy is None:
                continue
            for ident in identities_of(persons=person_ids, policy=policy):
                self._held.setdefault((ident.person_id, year), []).append(ident)

    _IDENTITY_COLUMNS = ("person_id", "year", "category_id", "certified_on")

    def identity_query(self, year: int):
        """``identities_of`` for ``year`` as (sql, params, index of the person-id array
        parameter), for a caller that runs it on its own cursor (PostgreSQL's writer thread);
        None without a policy. Pass the rows back through ``set_identities``."""
        policy = self.policy(year)
        if policy is None:
            return None
        if year not in self._queries:
            marker = [-1]
            qs = identities_of(
                persons=RawSQL("SELECT unnest(%s::bigint[])", [marker]), policy=policy
            ).values_list(*self._IDENTITY_COLUMNS)
            sql, params = qs.query.sql_with_params()
            index = next(i for i, p in enumerate(params) if p is marker)
            self._queries[year] = (sql, list(params), index)
            self._categories[year] = {
                c.id: c
                for c in SubsidyCategory.objects.filter(policy__county=self.county, policy__year__in=[year, year - 1])
            }
        return self._queries[year]

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
            cats = self._categories[year]
            for pid, ident_year, cat_id, certified_on in rows:
                held.setdefault((pid, year), []).append(HeldIdentity(pid, cats[cat_id], ident_year, certified_on))
        return held

    def owed(
        self, person_id: int, year: int, tier: int, student: bool = False, birth_date=None, paid_on=None,
    ) -> tuple[Decimal | None, calc.Owed | None, str]:
        """(self-pay, Owed, error message) for a person of the last loaded chunk, paying on ``paid_on``.
        Called for each row of a filing: the arguments may be given by position."""
        try:
            result = self.book.owed(year, tier, student, birth_date, paid_on, self._held.get((person_id, year)))
        except PolicyMissing as exc:
            return None, None, MSG_NO_POLICY.format(year=year) if self.policy(year) is None else str(exc)
        return result.self_pay, result, ""


def as_date(value):
    """Raw SQLite rows hold dates as text."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value
