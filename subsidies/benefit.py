"""Pure rules: when cover starts, and the critical-illness incentives. No database.

When cover starts (DOMAIN.md "When benefits start"), for benefit year Y, checked in this order:

1. a newborn of an insured parent, where the county covers them free → the birth date;
2. a newborn registered/paid within the newborn window (days, or months where the county counts
   in months) → the birth date (not before 1 January of Y); later → the registration/payment
   date plus the county's late wait (Shizhu: 90 days after full payment). Newborns have no
   waiting period. A baby born in Y−1 counts as a newborn only inside that window, and what it
   gets when it enrols in Y is the county's ``newborn_prior_year``: ``window`` (nothing more),
   ``year_end`` (Neixiang: only if it paid by 31 December of its birth year), ``backpay``
   (Shizhu: it may back-pay its birth year for cover from birth; later than the window it is
   covered from the late wait after payment, as a baby of the year is) or ``both_years``
   (Gaoyang: it pays both years' individual parts). Where a county refuses late newborns
   (Qinshui: 逾期不予办理) a newborn of the year enrolling after the window is refused;
2a. a group the county covers from a particular day (Jiangnan): a child taken in by a welfare
   institution from the day it entered; veterans, returned conscripts, released prisoners and
   people under community corrections, paying after the window, from the day they pay;
3. a new university student → 1 September of the intake year;
4. someone leaving employee insurance who enrols within 90 days → the day employee cover ended
   (not before 1 January of Y);
5. paid in the collection window → 1 January of Y (a break in enrollment adds the waiting period
   counted from the payment date);
6. paid in the extension → the first day of the month after payment;
7. later → low-income groups at once (即参即保); everyone else after the waiting period:
   base months (3) + 1 month per year of break beyond the first, less 1 month per back-paid
   year (only the variable part), and at least 6 months after ≥ 4 years of break.

Cover never starts before 1 January of Y except for new students (their year starts in September).
A start after 31 December of Y gets a note: no cover in Y at all.
Month arithmetic clamps to the month end (31 January + 1 month = 28/29 February).

Payment days (Qinshui, Gaoyang: days 1–25 of each month) apply only inside the collection period
(window start … extension end, or window end): 集中征缴期间每月1-25日可办理缴费.

A birth date after the payment or registration date (or after today) is refused, never ignored.
A registration date alone decides only a newborn's (or an employee-insurance leaver's) cover; anyone
else needs a payment date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from . import seasons
from .calc import ZERO, to_money
from .choices import CoverGroup, NewbornPriorYear

ERR_NEEDS_DATE = "请填写缴费日期或参保登记日期。"
ERR_NEEDS_PAID_ON = "非新生儿请填写缴费日期（参保登记日期只用于新生儿）。"
ERR_BIRTH_IN_FUTURE = "出生日期不能晚于今天，请核对出生日期。"
ERR_BIRTH_AFTER_PAID = "出生日期不能晚于缴费日期，请核对出生日期和缴费日期。"
ERR_BIRTH_AFTER_REGISTERED = "出生日期不能晚于参保登记日期，请核对出生日期和参保登记日期。"
ERR_BEFORE_WINDOW = "{year}年度集中征缴自{start:%Y年%-m月%-d日}开始，该日期尚不能缴费。"
ERR_PAYMENT_DAY = "每月{first}日至{last}日为缴费时段，其余日期为费款结算期，不办理缴费。"

WHY_WINDOW = "集中征缴期内缴费，自1月1日起享受待遇。"
WHY_WINDOW_BREAK = "集中征缴期内缴费但曾断保，等待期{months}个月。"
WHY_EXTENSION = "延长期内缴费，自缴费次月1日起享受待遇。"
WHY_WAITING = "集中征缴期外缴费，待遇等待期{months}个月。"
WHY_LOW_INCOME = "城乡低收入人口不设等待期，即参即保。"
WHY_NEWBORN = "新生儿在出生后规定期限内参保，自出生之日起享受待遇。"
WHY_NEWBORN_FREE = "父母已参保，新生儿不用缴费即可自出生之日起享受待遇。"
WHY_NEWBORN_LATE = "新生儿未在规定期限内参保，自参保缴费（登记）之日起享受待遇。"
WHY_NEWBORN_LATE_WAIT = "新生儿超过规定期限参保，从足额缴费后{days}日起享受待遇。"
WHY_NEWBORN_LATE_REFUSED = "新生儿出生后{limit}内未办理参保缴费，逾期不予办理当年度参保（可在下一年度集中征缴期参保）。"
WHY_PRIOR_YEAR_END = "上年出生的新生儿须在出生当年12月31日前缴费才能享受次年待遇，本次不按新生儿办理。"
WHY_PRIOR_BACKPAY = "可补缴出生当年（{year}年度）的参保费用，自出生之日起享受{year}年度待遇；不补缴的只享受{next}年度待遇。"
WHY_PRIOR_BOTH = "新生儿从出生到参保缴费跨两个年度，须按规定标准缴纳{year}年度和{next}年度的个人缴费部分，分别享受两个年度待遇。"
WHY_WELFARE_CHILD = "儿童福利机构接收的儿童，自进入儿童福利机构之日起享受待遇。"
WHY_FROM_PAYMENT = "{group}接续当年医保关系，自参保缴费之日起享受待遇。"
WHY_STUDENT = "新入学大学生自入学当年9月1日起享受待遇。"
WHY_EMPLOYEE = "职工医保断保后{days}天内参加居民医保，自职工医保断保之日起享受待遇。"

NOTE_START_AFTER_YEAR = "待遇开始日期晚于本待遇年度，本年度不享受待遇。"


class PaymentNotAccepted(ValueError):
    """A payment date on which this county does not take payments (or dates that cannot be used)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DatesInconsistent(PaymentNotAccepted):
    """The dates given contradict each other (a birth after the payment, a birth in the future)."""


@dataclass(frozen=True)
class CoverRules:
    """The policy figures these rules read (a PolicyYear's fields, as plain values)."""

    year: int
    window_start: date
    window_end: date
    extension_end: date | None = None
    payment_day_from: int | None = None
    payment_day_to: int | None = None
    newborn_window_days: int = 90
    newborn_window_months: int | None = None
    newborn_free_if_parent_insured: bool = False
    newborn_late_wait_days: int = 0
    newborn_prior_year: str = "window"  # NewbornPriorYear.WINDOW
    newborn_late_refused: bool = False
    from_payment_groups: tuple = ()
    welfare_child_from_entry: bool = False
    waiting_months_base: int = 3
    waiting_months_per_break_year: int = 1
    waiting_floor_months: int = 6
    waiting_floor_after_break_years: int = 4
    employee_transfer_days: int = 90

    @classmethod
    def from_policy(cls, policy) -> CoverRules:
        values = {f: getattr(policy, f) for f in cls.__dataclass_fields__}
        values["from_payment_groups"] = tuple(values["from_payment_groups"] or ())
        return cls(**values)


@dataclass(frozen=True)
class Applicant:
    paid_on: date | None = None
    birth_date: date | None = None
    registered_on: date | None = None
    break_years: int = 0
    backpaid_years: int = 0
    parent_insured: bool = False
    student_intake_year: int | None = None
    employee_cover_ended_on: date | None = None
    low_income: bool = False
    cover_group: str = ""  # subsidies.choices.CoverGroup
    cover_group_since: date | None = None  # a welfare child: the day the institution took it in


# What a newborn enrolling in the year after its birth may or must pay for its birth year.
BIRTH_YEAR_MAY_BACKPAY = "may"
BIRTH_YEAR_MUST_PAY = "must"


@dataclass(frozen=True)
class Cover:
    start: date
    reason: str
    waiting_months: int = 0
    notes: tuple = ()
    # A newborn of Y−1 enrolling in Y: its birth year (Y−1) may (Shizhu) or must (Gaoyang) be paid
    # too, for cover from birth; "" otherwise.
    birth_year: str = ""


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months, clamped to the last day of the target month."""
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def first_of_next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


def waiting_months(
    *, break_years: int, backpaid_years: int = 0, base: int = 3, per_break_year: int = 1, floor: int = 6, floor_after_break_years: int = 4
) -> int:
    """Fixed part + 1 month per year of break beyond the first, less back-paid years (variable part
    only), at least ``floor`` after ``floor_after_break_years`` or more years of break."""
    variable = max(0, break_years - 1) * per_break_year
    variable = max(0, variable - max(0, backpaid_years) * per_break_year)
    total = base + variable
    if break_years >= floor_after_break_years:
        total = max(total, floor)
    return total


def newborn_deadline(birth: date, rules: CoverRules) -> date:
    """The last day a newborn may be registered/paid and still be covered from birth."""
    if rules.newborn_window_months:
        return add_months(birth, rules.newborn_window_months) - timedelta(days=1)
    return birth + timedelta(days=rules.newborn_window_days)


def in_collection_period(d: date, rules: CoverRules) -> bool:
    """Inside the collection window or its extension (when the county has one)."""
    return seasons.is_open(rules, d)


def pays_as_newborn(birth_date: date | None, paid_on: date | None, rules: CoverRules) -> bool:
    """A baby born in the benefit year (or the year before) paying within the newborn window after
    birth: enrols as a newborn, not as a late or mid-year enrollee."""
    if birth_date is None or paid_on is None:
        return False
    if birth_date.year not in (rules.year, rules.year - 1):
        return False
    if misses_year_end(rules, Applicant(paid_on=paid_on, birth_date=birth_date)):
        return False
    return birth_date <= paid_on <= newborn_deadline(birth_date, rules)


def check_payment_date(paid_on: date, rules: CoverRules) -> None:
    """Refuse a payment before the window opens, and on a closed day of the month — the
    payment-days rule holds only during the collection period (集中征缴期间每月1-25日可办理缴费)."""
    if paid_on < rules.window_start:
        raise PaymentNotAccepted(ERR_BEFORE_WINDOW.format(year=rules.year, start=rules.window_start))
    first, last = rules.payment_day_from, rules.payment_day_to
    if first and last and in_collection_period(paid_on, rules) and not first <= paid_on.day <= last:
        raise PaymentNotAccepted(ERR_PAYMENT_DAY.format(first=first, last=last))


def check_birth_date(who: Applicant, *, today: date | None = None) -> None:
    """A birth date after today, the payment or the registration is an input error."""
    birth = who.birth_date
    if birth is None:
        return
    if today is not None and birth > today:
        raise DatesInconsistent(ERR_BIRTH_IN_FUTURE)
    if who.paid_on is not None and birth > who.paid_on:
        raise DatesInconsistent(ERR_BIRTH_AFTER_PAID)
    if who.registered_on is not None and birth > who.registered_on:
        raise DatesInconsistent(ERR_BIRTH_AFTER_REGISTERED)


def benefit_start(rules: CoverRules, who: Applicant, *, today: date | None = None) -> Cover:
    """When cover starts (see the module docstring). ``today`` (optional) refuses a birth date in
    the future."""
    check_birth_date(who, today=today)
    cover = _benefit_start(rules, who)
    if misses_year_end(rules, who):
        cover = replace(cover, notes=(WHY_PRIOR_YEAR_END,) + cover.notes)
    if cover.start > date(rules.year, 12, 31):
        cover = replace(cover, notes=cover.notes + (NOTE_START_AFTER_YEAR,))
    return cover


def _benefit_start(rules: CoverRules, who: Applicant) -> Cover:
    jan1 = date(rules.year, 1, 1)
    paid = who.paid_on
    acted = paid or who.registered_on
    if paid is not None:
        check_payment_date(paid, rules)

    # 1–2. Newborns.
    birth = who.birth_date
    if birth is not None:
        newborn = _newborn_cover(rules, who, birth, paid, acted)
        if newborn is not None:
            return newborn

    # 2a. Groups covered from a particular day.
    group = who.cover_group
    if group == CoverGroup.WELFARE_CHILD and rules.welfare_child_from_entry and who.cover_group_since and acted is not None:
        return Cover(max(who.cover_group_since, jan1), WHY_WELFARE_CHILD)
    if group and group in rules.from_payment_groups and paid is not None and paid > rules.window_end:
        return Cover(max(paid, jan1), WHY_FROM_PAYMENT.format(group=CoverGroup(group).label))

    # 3. New university students.
    if who.student_intake_year is not None and who.student_intake_year in (rules.year - 1, rules.year):
        return Cover(date(who.student_intake_year, 9, 1), WHY_STUDENT)

    # 4. Leaving employee insurance.
    ended = who.employee_cover_ended_on
    if ended is not None and acted is not None and 0 <= (acted - ended).days <= rules.employee_transfer_days:
        return Cover(max(ended, jan1), WHY_EMPLOYEE.format(days=rules.employee_transfer_days))

    if paid is None:
        raise PaymentNotAccepted(ERR_NEEDS_PAID_ON if who.registered_on is not None else ERR_NEEDS_DATE)

    months = waiting_months(
        break_years=who.break_years,
        backpaid_years=who.backpaid_years,
        base=rules.waiting_months_base,
        per_break_year=rules.waiting_months_per_break_year,
        floor=rules.waiting_floor_months,
        floor_after_break_years=rules.waiting_floor_after_break_years,
    )
    has_break = who.break_years > 0 and not who.low_income

    # 5. In the collection window.
    if paid <= rules.window_end:
        if has_break and months:
            start = add_months(paid, months)
            if start > jan1:
                return Cover(start, WHY_WINDOW_BREAK.format(months=months), months)
        return Cover(jan1, WHY_WINDOW)

    # 6. In the extension.
    if rules.extension_end is not None and paid <= rules.extension_end:
        start = first_of_next_month(paid)
        if has_break and months and add_months(paid, months) > start:
            return Cover(add_months(paid, months), WHY_WAITING.format(months=months), months)
        return Cover(start, WHY_EXTENSION)

    # 7. Later.
    if who.low_income:
        return Cover(max(paid, jan1), WHY_LOW_INCOME)
    if not months:
        return Cover(max(paid, jan1), WHY_WAITING.format(months=0))
    return Cover(max(add_months(paid, months), jan1), WHY_WAITING.format(months=months), months)


def _enrols_after_birth_year(rules: CoverRules, who: Applicant) -> bool:
    """A baby of Y−1 enrolling in Y, after the collection window (paying in the window it pays
    as everyone does, cover from 1 January)."""
    birth, paid = who.birth_date, who.paid_on
    acted = paid or who.registered_on
    if birth is None or acted is None or birth.year != rules.year - 1 or acted.year <= birth.year:
        return False
    return not (paid is not None and paid <= rules.window_end)


def misses_year_end(rules: CoverRules, who: Applicant) -> bool:
    """Neixiang: 2024年度出生的小孩，必须在2024年12月31日前缴费才能享受次年医保待遇 — a baby of
    Y−1 enrolling in Y is not a newborn for Y; the general rules decide its cover."""
    return rules.newborn_prior_year == NewbornPriorYear.YEAR_END and _enrols_after_birth_year(rules, who)


def _newborn_cover(rules: CoverRules, who: Applicant, birth: date, paid: date | None, acted: date | None) -> Cover | None:
    """A newborn's cover (rules 1–2), or None: not a newborn for this year, the general rules decide."""
    jan1 = date(rules.year, 1, 1)
    born_this_year = birth.year == rules.year
    if born_this_year and who.parent_insured and rules.newborn_free_if_parent_insured:
        return Cover(birth, WHY_NEWBORN_FREE)
    if acted is None and born_this_year:
        raise PaymentNotAccepted(ERR_NEEDS_DATE)
    after_birth_year = _enrols_after_birth_year(rules, who)
    if acted is None or birth > acted or not (born_this_year or after_birth_year) or misses_year_end(rules, who):
        return None
    if acted <= newborn_deadline(birth, rules):
        if after_birth_year and rules.newborn_prior_year == NewbornPriorYear.BACKPAY:
            note = WHY_PRIOR_BACKPAY.format(year=birth.year, next=rules.year)
            return Cover(jan1, WHY_NEWBORN, notes=(note,), birth_year=BIRTH_YEAR_MAY_BACKPAY)
        if after_birth_year and rules.newborn_prior_year == NewbornPriorYear.BOTH_YEARS:
            note = WHY_PRIOR_BOTH.format(year=birth.year, next=rules.year)
            return Cover(jan1, WHY_NEWBORN, notes=(note,), birth_year=BIRTH_YEAR_MUST_PAY)
        return Cover(max(birth, jan1), WHY_NEWBORN)
    # Late. Qinshui refuses a baby of the year that missed the window and its six months (the
    # year's cover is what its sentence is about: 参保后方可享受当年度…逾期不予办理).
    if born_this_year and rules.newborn_late_refused and not in_collection_period(acted, rules):
        limit = f"{rules.newborn_window_months}个月" if rules.newborn_window_months else f"{rules.newborn_window_days}天"
        raise PaymentNotAccepted(WHY_NEWBORN_LATE_REFUSED.format(limit=limit))
    # Shizhu: 在出生当年超过90日参保缴费的 / 在出生后次年（超过3个月）参保缴费的，从足额缴费后90日起享受.
    if rules.newborn_late_wait_days and (born_this_year or rules.newborn_prior_year == NewbornPriorYear.BACKPAY):
        start = (paid or acted) + timedelta(days=rules.newborn_late_wait_days)
        return Cover(max(start, jan1), WHY_NEWBORN_LATE_WAIT.format(days=rules.newborn_late_wait_days))
    if born_this_year:
        return Cover(max(acted, jan1), WHY_NEWBORN_LATE)
    return None


# --- Critical-illness incentives -----------------------------------------------------------


@dataclass(frozen=True)
class YearRecord:
    """One past benefit year of a resident, oldest first."""

    enrolled: bool
    zero_claim: bool = False
    used_reward: bool = False


def incentive_raise(
    history, *, after_years: int = 4, step=Decimal("1000"), cap_rate=Decimal("20"), base_cap=None
) -> Decimal:
    """How much next year's critical-illness cap is raised.

    - continuous enrollment: after ``after_years`` continuous years, each further continuous year
      is one step;
    - zero claims: each enrolled year with no reimbursement is one step;
    - using the reward (a critical-illness claim that used the raised cap) clears the zero-claim
      steps accumulated so far; a break clears everything (continuous years restart);
    - total ≤ ``cap_rate``% of the base cap (when the base cap is known).
    """
    step = to_money(step)
    continuous = cont_steps = zero_steps = 0
    for rec in history:
        if not rec.enrolled:
            continuous = cont_steps = zero_steps = 0
            continue
        continuous += 1
        if continuous > after_years:
            cont_steps += 1
        if rec.used_reward:
            zero_steps = 0
        if rec.zero_claim:
            zero_steps += 1
    total = to_money(step * (cont_steps + zero_steps))
    if base_cap is not None:
        ceiling = to_money(Decimal(str(base_cap)) * Decimal(str(cap_rate)) / 100)
        total = min(total, ceiling)
    return max(total, ZERO)
