"""When cover starts, waiting periods and incentives: table-driven, no database."""

from datetime import date
from decimal import Decimal as D

import pytest

from subsidies.benefit import (
    ERR_BEFORE_WINDOW,
    ERR_BIRTH_AFTER_PAID,
    ERR_BIRTH_AFTER_REGISTERED,
    ERR_BIRTH_IN_FUTURE,
    ERR_NEEDS_DATE,
    ERR_NEEDS_PAID_ON,
    ERR_PAYMENT_DAY,
    NOTE_START_AFTER_YEAR,
    WHY_EMPLOYEE,
    WHY_EXTENSION,
    WHY_LOW_INCOME,
    WHY_NEWBORN,
    WHY_NEWBORN_FREE,
    WHY_NEWBORN_LATE,
    WHY_STUDENT,
    WHY_WAITING,
    WHY_WINDOW,
    Applicant,
    CoverRules,
    DatesInconsistent,
    PaymentNotAccepted,
    YearRecord,
    add_months,
    benefit_start,
    first_of_next_month,
    in_collection_period,
    incentive_raise,
    newborn_deadline,
    pays_as_newborn,
    waiting_months,
)

# The seed counties' rules as plain values.
NEIXIANG = CoverRules(year=2025, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31), newborn_window_days=90,
                      newborn_free_if_parent_insured=True)
SHIZHU = CoverRules(year=2025, window_start=date(2024, 10, 18), window_end=date(2024, 12, 31), extension_end=date(2025, 2, 28),
                    newborn_window_days=90, newborn_free_if_parent_insured=True, newborn_late_wait_days=90)
QINSHUI = CoverRules(year=2025, window_start=date(2024, 9, 1), window_end=date(2025, 2, 28), payment_day_from=1, payment_day_to=25,
                     newborn_window_days=180, newborn_window_months=6)
GAOYANG = CoverRules(year=2024, window_start=date(2023, 9, 1), window_end=date(2023, 12, 25), payment_day_from=1, payment_day_to=25,
                     newborn_window_days=180, waiting_months_base=0, waiting_months_per_break_year=0, waiting_floor_months=0)
# A county with payment days and an extension (the days rule runs to the extension's end).
DAYS_EXT = CoverRules(year=2025, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31), extension_end=date(2025, 2, 28),
                      payment_day_from=1, payment_day_to=25)
LEAP = CoverRules(year=2024, window_start=date(2023, 9, 1), window_end=date(2023, 12, 31), extension_end=date(2024, 2, 29))


@pytest.mark.parametrize(
    "d, months, expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 12, 31), 6, date(2025, 6, 30)),
        (date(2025, 3, 15), 3, date(2025, 6, 15)),
        (date(2025, 10, 31), 4, date(2026, 2, 28)),
        (date(2027, 10, 31), 4, date(2028, 2, 29)),
        (date(2025, 5, 5), 0, date(2025, 5, 5)),
        (date(2025, 12, 1), 13, date(2027, 1, 1)),
    ],
)
def test_add_months(d, months, expected):
    assert add_months(d, months) == expected


@pytest.mark.parametrize(
    "d, expected",
    [(date(2025, 1, 1), date(2025, 2, 1)), (date(2025, 1, 31), date(2025, 2, 1)), (date(2024, 12, 31), date(2025, 1, 1)), (date(2024, 2, 29), date(2024, 3, 1))],
)
def test_first_of_next_month(d, expected):
    assert first_of_next_month(d) == expected


# break years, back-paid years → months (3 fixed + 1 per extra year, back-pay removes variable, ≥ 6 after ≥ 4 years)
@pytest.mark.parametrize(
    "breaks, backpaid, expected",
    [
        (0, 0, 3), (1, 0, 3), (2, 0, 4), (3, 0, 5), (4, 0, 6), (5, 0, 7), (10, 0, 12),
        (2, 1, 3), (3, 1, 4), (3, 2, 3), (3, 5, 3),  # back-pay only removes the variable part
        (4, 3, 6), (5, 4, 6), (10, 9, 6), (10, 2, 10),  # floor of 6 after ≥ 4 years
        (0, 3, 3),
    ],
)
def test_waiting_months(breaks, backpaid, expected):
    assert waiting_months(break_years=breaks, backpaid_years=backpaid) == expected


def test_waiting_months_county_without_waiting():
    assert waiting_months(break_years=5, base=0, per_break_year=0, floor=0) == 0


@pytest.mark.parametrize(
    "birth, rules, expected",
    [
        (date(2025, 1, 1), NEIXIANG, date(2025, 4, 1)),  # 90 days
        (date(2024, 12, 15), NEIXIANG, date(2025, 3, 15)),
        (date(2025, 1, 15), QINSHUI, date(2025, 7, 14)),  # six months
        (date(2024, 8, 31), QINSHUI, date(2025, 2, 27)),  # month end clamp
        (date(2023, 8, 31), QINSHUI, date(2024, 2, 28)),  # leap year month end
    ],
)
def test_newborn_deadline(birth, rules, expected):
    assert newborn_deadline(birth, rules) == expected


CASES = [
    # label, rules, applicant, expected start, reason (or None)
    ("window first day", NEIXIANG, Applicant(paid_on=date(2024, 9, 1)), date(2025, 1, 1), WHY_WINDOW),
    ("window last day", NEIXIANG, Applicant(paid_on=date(2024, 12, 31)), date(2025, 1, 1), WHY_WINDOW),
    ("day after window, no extension → 3 months", NEIXIANG, Applicant(paid_on=date(2025, 1, 1)), date(2025, 4, 1), None),
    ("late 31 Jan → 30 April (month end)", NEIXIANG, Applicant(paid_on=date(2025, 1, 31)), date(2025, 4, 30), None),
    ("late 30 Nov → 28 Feb next year", NEIXIANG, Applicant(paid_on=date(2025, 11, 30)), date(2026, 2, 28), None),
    ("late with 2 years of break → 4 months", NEIXIANG, Applicant(paid_on=date(2025, 3, 10), break_years=2), date(2025, 7, 10), None),
    ("late, 5 years of break, 4 back-paid → floor 6", NEIXIANG, Applicant(paid_on=date(2025, 3, 10), break_years=5, backpaid_years=4), date(2025, 9, 10), None),
    ("in window but 2 years of break: 4 months from payment", NEIXIANG, Applicant(paid_on=date(2024, 11, 15), break_years=2), date(2025, 3, 15), None),
    ("in window, 1 year of break paid early: waiting ends before 1 Jan", NEIXIANG, Applicant(paid_on=date(2024, 9, 5), break_years=1), date(2025, 1, 1), WHY_WINDOW),
    ("Shizhu extension first day → 1 Feb", SHIZHU, Applicant(paid_on=date(2025, 1, 1)), date(2025, 2, 1), WHY_EXTENSION),
    ("Shizhu extension 31 Jan → 1 Feb", SHIZHU, Applicant(paid_on=date(2025, 1, 31)), date(2025, 2, 1), WHY_EXTENSION),
    ("Shizhu extension last day 28 Feb → 1 March", SHIZHU, Applicant(paid_on=date(2025, 2, 28)), date(2025, 3, 1), WHY_EXTENSION),
    ("Shizhu 1 March → waiting 3 months", SHIZHU, Applicant(paid_on=date(2025, 3, 1)), date(2025, 6, 1), None),
    ("Shizhu extension with 3 years of break → waiting wins", SHIZHU, Applicant(paid_on=date(2025, 1, 20), break_years=3), date(2025, 6, 20), None),
    ("Shizhu mid-year low-income: no waiting", SHIZHU, Applicant(paid_on=date(2025, 8, 3), low_income=True), date(2025, 8, 3), WHY_LOW_INCOME),
    ("Shizhu low-income in extension: next month", SHIZHU, Applicant(paid_on=date(2025, 2, 10), low_income=True), date(2025, 3, 1), WHY_EXTENSION),
    ("Qinshui February is still in the window", QINSHUI, Applicant(paid_on=date(2025, 2, 25)), date(2025, 1, 1), WHY_WINDOW),
    ("leap-year extension last day 29 Feb → 1 March", LEAP, Applicant(paid_on=date(2024, 2, 29)), date(2024, 3, 1), WHY_EXTENSION),
    ("Gaoyang late with no waiting set → from payment", GAOYANG, Applicant(paid_on=date(2024, 3, 5)), date(2024, 3, 5), None),
    # Newborns.
    ("Neixiang newborn, parent insured → free from birth", NEIXIANG, Applicant(birth_date=date(2025, 3, 3), parent_insured=True), date(2025, 3, 3), WHY_NEWBORN_FREE),
    ("Neixiang newborn paid day 90 → from birth", NEIXIANG, Applicant(birth_date=date(2025, 3, 3), paid_on=date(2025, 6, 1)), date(2025, 3, 3), WHY_NEWBORN),
    ("Neixiang newborn paid day 91 → from registration", NEIXIANG, Applicant(birth_date=date(2025, 3, 3), paid_on=date(2025, 6, 2), registered_on=date(2025, 6, 2)), date(2025, 6, 2), WHY_NEWBORN_LATE),
    ("Neixiang newborn registered on day 30, no payment yet → from birth", NEIXIANG, Applicant(birth_date=date(2025, 3, 3), registered_on=date(2025, 4, 2)), date(2025, 3, 3), WHY_NEWBORN),
    ("Shizhu newborn late → 90 days after payment", SHIZHU, Applicant(birth_date=date(2025, 3, 3), paid_on=date(2025, 7, 1)), date(2025, 9, 29), None),
    ("Shizhu newborn born 29 Feb leap year within 90 days", LEAP, Applicant(birth_date=date(2024, 2, 29), paid_on=date(2024, 5, 29)), date(2024, 2, 29), WHY_NEWBORN),
    ("newborn of Dec, paid in Jan within 90 days → 1 Jan", SHIZHU, Applicant(birth_date=date(2024, 12, 20), paid_on=date(2025, 1, 10)), date(2025, 1, 1), WHY_NEWBORN),
    ("baby born Feb last year, paid after window → ordinary late rule", NEIXIANG, Applicant(birth_date=date(2024, 2, 1), paid_on=date(2025, 3, 1)), date(2025, 6, 1), None),
    ("baby born last year paid in window → 1 Jan", NEIXIANG, Applicant(birth_date=date(2024, 5, 1), paid_on=date(2024, 10, 1)), date(2025, 1, 1), WHY_WINDOW),
    ("Qinshui newborn within 6 months → from birth", QINSHUI, Applicant(birth_date=date(2025, 1, 15), paid_on=date(2025, 7, 14)), date(2025, 1, 15), WHY_NEWBORN),
    ("Qinshui newborn one day past 6 months", QINSHUI, Applicant(birth_date=date(2025, 1, 15), paid_on=date(2025, 7, 15)), date(2025, 7, 15), WHY_NEWBORN_LATE),
    ("Qinshui newborn paid inside the (February) window → from birth, not 1 Jan", QINSHUI, Applicant(birth_date=date(2025, 1, 15), paid_on=date(2025, 2, 10)), date(2025, 1, 15), WHY_NEWBORN),
    ("Gaoyang newborn 180 days", GAOYANG, Applicant(birth_date=date(2024, 1, 10), paid_on=date(2024, 7, 8)), date(2024, 1, 10), WHY_NEWBORN),
    ("Qinshui: no free newborn cover, parent insured still pays, from birth", QINSHUI, Applicant(birth_date=date(2025, 3, 1), parent_insured=True, paid_on=date(2025, 3, 20)), date(2025, 3, 1), WHY_NEWBORN),
    # Other groups.
    ("new university student → 1 September of intake year", NEIXIANG, Applicant(paid_on=date(2024, 10, 1), student_intake_year=2024), date(2024, 9, 1), WHY_STUDENT),
    ("left employee insurance 90 days ago → from that day", NEIXIANG, Applicant(paid_on=date(2025, 6, 29), employee_cover_ended_on=date(2025, 3, 31)), date(2025, 3, 31), WHY_EMPLOYEE.format(days=90)),
    ("left employee insurance 91 days ago → waiting", NEIXIANG, Applicant(paid_on=date(2025, 6, 30), employee_cover_ended_on=date(2025, 3, 31)), date(2025, 9, 30), None),
    ("left employee insurance last December → 1 Jan", SHIZHU, Applicant(paid_on=date(2025, 1, 20), employee_cover_ended_on=date(2024, 12, 20)), date(2025, 1, 1), WHY_EMPLOYEE.format(days=90)),
    ("low-income late (no extension) → at once", NEIXIANG, Applicant(paid_on=date(2025, 5, 6), low_income=True, break_years=3), date(2025, 5, 6), WHY_LOW_INCOME),
]


@pytest.mark.parametrize("label, rules, who, expected, reason", CASES, ids=[c[0] for c in CASES])
def test_benefit_start(label, rules, who, expected, reason):
    cover = benefit_start(rules, who)
    assert cover.start == expected
    if reason:
        assert cover.reason == reason


@pytest.mark.parametrize(
    "rules, who, message",
    [
        (QINSHUI, Applicant(paid_on=date(2024, 10, 26)), "每月1日至25日"),
        (QINSHUI, Applicant(paid_on=date(2024, 10, 31)), "每月1日至25日"),
        (GAOYANG, Applicant(paid_on=date(2023, 10, 29)), "每月1日至25日"),  # in the window (29 Feb 2024 is after it: accepted)
        (NEIXIANG, Applicant(paid_on=date(2024, 8, 31)), ERR_BEFORE_WINDOW.format(year=2025, start=date(2024, 9, 1))),
        (NEIXIANG, Applicant(), ERR_NEEDS_DATE),
        (NEIXIANG, Applicant(birth_date=date(2025, 3, 1)), ERR_NEEDS_DATE),
    ],
)
def test_payment_not_accepted(rules, who, message):
    with pytest.raises(PaymentNotAccepted) as exc:
        benefit_start(rules, who)
    assert message in exc.value.message


# Payment days (每月1日至25日) hold only during the collection period — Qinshui 002: 集中征缴期间每月1-25日
#可办理缴费; Gaoyang 004: 9月1日-12月25日 … （每月1日至25日为缴费时段 …）.
# label, rules, applicant, expected start (None: refused with ERR_PAYMENT_DAY), reason
PAYMENT_DAY_CASES = [
    ("Qinshui 26 Oct, in the window → refused", QINSHUI, Applicant(paid_on=date(2024, 10, 26)), None, None),
    ("Qinshui 26 Feb, last month of the window → refused", QINSHUI, Applicant(paid_on=date(2025, 2, 26)), None, None),
    ("Qinshui 28 July, after the window → accepted, waiting 3 months", QINSHUI, Applicant(paid_on=date(2025, 7, 28)), date(2025, 10, 28), WHY_WAITING.format(months=3)),
    ("Qinshui 31 March after the window → accepted", QINSHUI, Applicant(paid_on=date(2025, 3, 31)), date(2025, 6, 30), None),
    ("Qinshui newborn paid 28 July within 6 months → from birth", QINSHUI, Applicant(birth_date=date(2025, 2, 10), paid_on=date(2025, 7, 28)), date(2025, 2, 10), WHY_NEWBORN),
    ("Gaoyang 26 Dec, day after the window → accepted", GAOYANG, Applicant(paid_on=date(2023, 12, 26)), date(2024, 1, 1), None),
    ("Gaoyang 29 Feb, after the window → accepted, from payment", GAOYANG, Applicant(paid_on=date(2024, 2, 29)), date(2024, 2, 29), None),
    ("Gaoyang 26 Nov, in the window → refused", GAOYANG, Applicant(paid_on=date(2023, 11, 26)), None, None),
    ("Gaoyang newborn paid 27 Aug, outside the window → from birth", GAOYANG, Applicant(birth_date=date(2024, 3, 1), paid_on=date(2024, 8, 27)), date(2024, 3, 1), WHY_NEWBORN),
    ("extension 26 Feb → refused (still the collection period)", DAYS_EXT, Applicant(paid_on=date(2025, 2, 26)), None, None),
    ("extension 25 Feb → accepted", DAYS_EXT, Applicant(paid_on=date(2025, 2, 25)), date(2025, 3, 1), WHY_EXTENSION),
    ("after the extension 26 March → accepted", DAYS_EXT, Applicant(paid_on=date(2025, 3, 26)), date(2025, 6, 26), None),
]


@pytest.mark.parametrize("label, rules, who, expected, reason", PAYMENT_DAY_CASES, ids=[c[0] for c in PAYMENT_DAY_CASES])
def test_payment_days_only_in_collection_period(label, rules, who, expected, reason):
    if expected is None:
        with pytest.raises(PaymentNotAccepted) as exc:
            benefit_start(rules, who)
        assert exc.value.message == ERR_PAYMENT_DAY.format(first=1, last=25)
        return
    cover = benefit_start(rules, who)
    assert cover.start == expected
    if reason:
        assert cover.reason == reason


@pytest.mark.parametrize(
    "d, rules, expected",
    [
        (date(2024, 8, 31), QINSHUI, False), (date(2024, 9, 1), QINSHUI, True), (date(2025, 2, 28), QINSHUI, True),
        (date(2025, 3, 1), QINSHUI, False), (date(2025, 2, 28), DAYS_EXT, True), (date(2025, 3, 1), DAYS_EXT, False),
        (date(2023, 12, 25), GAOYANG, True), (date(2023, 12, 26), GAOYANG, False),
    ],
)
def test_in_collection_period(d, rules, expected):
    assert in_collection_period(d, rules) is expected


# Born in the benefit year (or the year before) and paying within the newborn window after birth.
@pytest.mark.parametrize(
    "label, rules, birth, paid, expected",
    [
        ("Shizhu born 20 June, paid 10 July", SHIZHU, date(2025, 6, 20), date(2025, 7, 10), True),
        ("Shizhu day 90", SHIZHU, date(2025, 6, 20), date(2025, 9, 18), True),
        ("Shizhu day 91", SHIZHU, date(2025, 6, 20), date(2025, 9, 19), False),
        ("Shizhu born last December, paid in January", SHIZHU, date(2024, 12, 20), date(2025, 1, 10), True),
        ("born two years before the benefit year", SHIZHU, date(2023, 12, 20), date(2024, 1, 10), False),
        ("paid on the birth day", SHIZHU, date(2025, 6, 20), date(2025, 6, 20), True),
        ("birth after payment", SHIZHU, date(2025, 7, 10), date(2025, 7, 1), False),
        ("no payment date", SHIZHU, date(2025, 6, 20), None, False),
        ("no birth date", SHIZHU, None, date(2025, 7, 10), False),
        ("Qinshui six months: last day", QINSHUI, date(2025, 1, 15), date(2025, 7, 14), True),
        ("Qinshui six months: a day late", QINSHUI, date(2025, 1, 15), date(2025, 7, 15), False),
        ("Gaoyang 180 days", GAOYANG, date(2024, 3, 1), date(2024, 8, 27), True),
    ],
)
def test_pays_as_newborn(label, rules, birth, paid, expected):
    assert pays_as_newborn(birth, paid, rules) is expected


# A registration date alone decides only a newborn's cover; a birth date contradicting the other
# dates is refused, never ignored.
@pytest.mark.parametrize(
    "label, rules, who, today, message",
    [
        ("registration only, no birth date", NEIXIANG, Applicant(registered_on=date(2025, 3, 1)), None, ERR_NEEDS_PAID_ON),
        ("registration only, adult birth date", NEIXIANG, Applicant(birth_date=date(1990, 5, 1), registered_on=date(2025, 3, 1)), None, ERR_NEEDS_PAID_ON),
        ("registration only, baby past the window of last year", NEIXIANG, Applicant(birth_date=date(2024, 2, 1), registered_on=date(2025, 3, 1)), None, ERR_NEEDS_PAID_ON),
        ("nothing at all", NEIXIANG, Applicant(), None, ERR_NEEDS_DATE),
        ("birth after payment", SHIZHU, Applicant(birth_date=date(2025, 7, 10), paid_on=date(2025, 7, 1)), None, ERR_BIRTH_AFTER_PAID),
        ("birth after registration", NEIXIANG, Applicant(birth_date=date(2025, 5, 1), registered_on=date(2025, 4, 1)), None, ERR_BIRTH_AFTER_REGISTERED),
        ("birth after registration, payment later", NEIXIANG, Applicant(birth_date=date(2025, 5, 1), registered_on=date(2025, 4, 1), paid_on=date(2025, 5, 3)), None, ERR_BIRTH_AFTER_REGISTERED),
        ("birth in the future", NEIXIANG, Applicant(birth_date=date(2025, 5, 1), registered_on=date(2025, 5, 10)), date(2025, 4, 30), ERR_BIRTH_IN_FUTURE),
        ("birth in the future, no other date", NEIXIANG, Applicant(birth_date=date(2025, 5, 1)), date(2025, 4, 30), ERR_BIRTH_IN_FUTURE),
    ],
)
def test_dates_refused(label, rules, who, today, message):
    with pytest.raises(PaymentNotAccepted) as exc:
        benefit_start(rules, who, today=today)
    assert exc.value.message == message


@pytest.mark.parametrize("who", [Applicant(birth_date=date(2025, 7, 10), paid_on=date(2025, 7, 1)),
                                 Applicant(birth_date=date(2025, 5, 1), registered_on=date(2025, 5, 2))])
def test_birth_errors_are_dates_inconsistent(who):
    with pytest.raises(DatesInconsistent):
        benefit_start(SHIZHU, who, today=date(2025, 4, 1))


def test_birth_today_is_accepted():
    cover = benefit_start(NEIXIANG, Applicant(birth_date=date(2025, 5, 1), registered_on=date(2025, 5, 1)), today=date(2025, 5, 1))
    assert cover.start == date(2025, 5, 1) and cover.reason == WHY_NEWBORN


# A start after 31 December of the benefit year: no cover this year, and the answer says so.
@pytest.mark.parametrize(
    "label, rules, who, start, noted",
    [
        ("late 30 Sept → 30 Dec: still this year", NEIXIANG, Applicant(paid_on=date(2025, 9, 30)), date(2025, 12, 30), False),
        ("late 1 Oct → 1 Jan next year", NEIXIANG, Applicant(paid_on=date(2025, 10, 1)), date(2026, 1, 1), True),
        ("late 30 Nov → 28 Feb next year", NEIXIANG, Applicant(paid_on=date(2025, 11, 30)), date(2026, 2, 28), True),
        ("Shizhu late newborn 90 days after payment in October", SHIZHU, Applicant(birth_date=date(2025, 3, 3), paid_on=date(2025, 10, 15)), date(2026, 1, 13), True),
        ("in the window → 1 Jan: no note", NEIXIANG, Applicant(paid_on=date(2024, 10, 1)), date(2025, 1, 1), False),
    ],
)
def test_note_when_start_after_the_year(label, rules, who, start, noted):
    cover = benefit_start(rules, who)
    assert cover.start == start
    assert (NOTE_START_AFTER_YEAR in cover.notes) is noted


@pytest.mark.parametrize("day", [1, 25])
def test_payment_days_inclusive(day):
    assert benefit_start(QINSHUI, Applicant(paid_on=date(2024, 10, day))).start == date(2025, 1, 1)


def test_from_policy_reads_every_field():
    class P:
        pass

    p = P()
    for f in CoverRules.__dataclass_fields__:
        setattr(p, f, getattr(SHIZHU, f))
    assert CoverRules.from_policy(p) == SHIZHU


Y = YearRecord(enrolled=True)
Z = YearRecord(enrolled=True, zero_claim=True)
U = YearRecord(enrolled=True, used_reward=True)
B = YearRecord(enrolled=False)


@pytest.mark.parametrize(
    "label, history, base_cap, expected",
    [
        ("4 years: nothing yet", [Y] * 4, None, "0.00"),
        ("5th continuous year: one step", [Y] * 5, None, "1000.00"),
        ("7 continuous years: three steps", [Y] * 7, None, "3000.00"),
        ("break resets", [Y] * 6 + [B] + [Y] * 4, None, "0.00"),
        ("break then 5 years", [Y] * 3 + [B] + [Y] * 5, None, "1000.00"),
        ("zero-claim year adds a step", [Z], None, "1000.00"),
        ("continuous + zero-claim add up", [Y] * 4 + [Z] * 2, None, "4000.00"),
        ("using the reward clears zero-claim steps", [Z, Z, U], None, "0.00"),
        ("using the reward keeps continuous steps", [Y] * 6 + [U], None, "3000.00"),
        ("zero-claim after use counts again", [Z, U, Z], None, "1000.00"),
        ("break clears zero-claim steps", [Z, Z, B, Y], None, "0.00"),
        ("capped at 20% of base cap", [Z] * 30, "100000", "20000.00"),
        ("under the cap", [Y] * 6, "100000", "2000.00"),
        ("empty history", [], None, "0.00"),
    ],
)
def test_incentive_raise(label, history, base_cap, expected):
    assert incentive_raise(history, base_cap=base_cap) == D(expected)


def test_incentive_step_and_rate_are_settings():
    assert incentive_raise([Z] * 3, step=D("1500"), cap_rate=D("10"), base_cap=D("40000")) == D("4000.00")
    assert incentive_raise([Z] * 3, step=D("0")) == D("0.00")
