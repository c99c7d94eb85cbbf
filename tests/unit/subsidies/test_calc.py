"""What a resident owes: table-driven, no database."""

from datetime import date
from decimal import Decimal as D

import pytest

from subsidies.calc import (
    NOTE_LATE_IDENTITY,
    NOTE_MIDYEAR,
    NOTE_MIDYEAR_LOW_INCOME,
    NOTE_MIDYEAR_NEWBORN,
    CategoryOffer,
    best_subsidy,
    owed,
    percent_of,
    refund_difference,
    to_money,
)

WINDOW_END = date(2024, 12, 31)


def offer(code, amount, certified=None, *, all_=False, low=False):
    return CategoryOffer(code=code, name=code, amount=D(amount), certified_on=certified, applies_to_all=all_, is_low_income=low)


@pytest.mark.parametrize(
    "value, expected",
    [("400", "400.00"), (D("0.005"), "0.01"), (D("0.004"), "0.00"), (266, "266.00"), ("341.995", "342.00"), (D("-0.005"), "-0.01")],
)
def test_to_money(value, expected):
    assert to_money(value) == D(expected)


@pytest.mark.parametrize(
    "standard, percent, expected",
    [
        ("380", "100", "380.00"),  # Gaoyang 特困
        ("380", "90", "342.00"),  # Gaoyang 低保
        ("380", "70", "266.00"),  # Gaoyang 其他脱贫人口
        ("400", "90", "360.00"),  # Qinshui 返贫致贫
        ("400", "80", "320.00"),
        ("400", "50", "200.00"),
        ("400", "20", "80.00"),
        ("775", "33.33", "258.31"),  # rounding half up
        ("0", "90", "0.00"),
    ],
)
def test_percent_of(standard, percent, expected):
    assert percent_of(standard, percent) == D(expected)


# (standard, offers, window_end, expected subsidy, self_pay, category code)
OWED_CASES = [
    ("no identity", "400", [], WINDOW_END, "0.00", "400.00", None),
    ("one identity", "400", [offer("dibao", "80")], WINDOW_END, "80.00", "320.00", "dibao"),
    ("full subsidy", "400", [offer("tekun", "400")], WINDOW_END, "400.00", "0.00", "tekun"),
    ("best of two, never stacked", "400", [offer("a", "200"), offer("b", "280")], WINDOW_END, "280.00", "120.00", "b"),
    ("best of three incl. universal", "400", [offer("all", "80", all_=True), offer("jc", "280"), offer("db", "320")], WINDOW_END, "320.00", "80.00", "db"),
    ("universal only", "400", [offer("all", "80", all_=True)], WINDOW_END, "80.00", "320.00", "all"),
    ("tie prefers specific over universal", "400", [offer("zz", "80", all_=True), offer("aa", "80")], WINDOW_END, "80.00", "320.00", "aa"),
    ("tie between specifics → lowest code", "400", [offer("b", "200"), offer("a", "200")], WINDOW_END, "200.00", "200.00", "a"),
    ("subsidy above standard capped (student 380, 特困 400)", "380", [offer("tekun", "400")], WINDOW_END, "380.00", "0.00", "tekun"),
    ("tier 2 fixed 400 of 775", "775", [offer("db", "400")], WINDOW_END, "400.00", "375.00", "db"),
    ("certified on the last window day counts", "400", [offer("db", "320", date(2024, 12, 31))], WINDOW_END, "320.00", "80.00", "db"),
    ("certified the day after the window → next year", "400", [offer("db", "320", date(2025, 1, 1))], WINDOW_END, "0.00", "400.00", None),
    ("late identity falls back to earlier one", "400", [offer("db", "320", date(2025, 1, 1)), offer("jc", "280", date(2024, 10, 1))], WINDOW_END, "280.00", "120.00", "jc"),
    ("late identity still leaves the universal one", "400", [offer("db", "320", date(2025, 3, 1)), offer("all", "80", all_=True)], WINDOW_END, "80.00", "320.00", "all"),
    ("no window → every identity counts", "400", [offer("db", "320", date(2030, 1, 1))], None, "320.00", "80.00", "db"),
    ("leap day certification inside a window ending 2024-02-29", "400", [offer("db", "320", date(2024, 2, 29))], date(2024, 2, 29), "320.00", "80.00", "db"),
    ("zero standard never negative", "0", [offer("db", "80")], WINDOW_END, "0.00", "0.00", "db"),
]


@pytest.mark.parametrize("label, standard, offers, window_end, subsidy, self_pay, code", OWED_CASES, ids=[c[0] for c in OWED_CASES])
def test_owed(label, standard, offers, window_end, subsidy, self_pay, code):
    result = owed(D(standard), offers, window_end=window_end)
    assert result.standard == to_money(standard)
    assert result.subsidy == D(subsidy)
    assert result.self_pay == D(self_pay)
    assert result.self_pay >= 0
    assert result.subsidy + result.self_pay == result.standard
    assert (result.category.code if result.category else None) == code


def test_owed_notes_late_identity():
    assert NOTE_LATE_IDENTITY in owed(D("400"), [offer("db", "320", date(2025, 1, 1))], window_end=WINDOW_END).notes


def test_best_subsidy_none_when_empty():
    assert best_subsidy([]) is None


MIDYEAR = date(2025, 7, 1)
# paid_on, offers, expected standard, subsidy, self_pay, note
MIDYEAR_CASES = [
    ("before 1 July: normal", date(2025, 6, 30), [offer("x", "200")], "400.00", "200.00", "200.00", None),
    ("on 1 July, ordinary: standard + fiscal", date(2025, 7, 1), [], "1070.00", "0.00", "1070.00", NOTE_MIDYEAR),
    ("31 Dec, ordinary", date(2025, 12, 31), [], "1070.00", "0.00", "1070.00", NOTE_MIDYEAR),
    ("mid-year, non-low-income identity loses subsidy", date(2025, 8, 1), [offer("canji", "280")], "1070.00", "0.00", "1070.00", NOTE_MIDYEAR),
    ("mid-year, low-income keeps subsidy", date(2025, 8, 1), [offer("db", "360", low=True)], "400.00", "360.00", "40.00", NOTE_MIDYEAR_LOW_INCOME),
    ("mid-year, low-income best among low-income only", date(2025, 8, 1), [offer("canji", "400"), offer("db", "360", low=True)], "400.00", "360.00", "40.00", NOTE_MIDYEAR_LOW_INCOME),
]


@pytest.mark.parametrize("label, paid_on, offers, standard, subsidy, self_pay, note", MIDYEAR_CASES, ids=[c[0] for c in MIDYEAR_CASES])
def test_owed_midyear(label, paid_on, offers, standard, subsidy, self_pay, note):
    result = owed(D("400"), offers, window_end=WINDOW_END, paid_on=paid_on, midyear_from=MIDYEAR,
                  midyear_pays_fiscal_subsidy=True, fiscal_subsidy=D("670"))
    assert (result.standard, result.subsidy, result.self_pay) == (D(standard), D(subsidy), D(self_pay))
    assert (note in result.notes) if note else not result.notes


# Shizhu newborns (独立参保的新生儿，只缴纳个人应承担的费用): the mid-year rule is for adults
# joining late, not for a baby enrolled within the newborn window.
# paid_on, newborn, offers, expected standard, subsidy, self_pay, note
NEWBORN_CASES = [
    ("newborn paid 10 July: individual part only", date(2025, 7, 10), True, [], "400.00", "0.00", "400.00", NOTE_MIDYEAR_NEWBORN),
    ("newborn paid 31 Dec", date(2025, 12, 31), True, [], "400.00", "0.00", "400.00", NOTE_MIDYEAR_NEWBORN),
    ("newborn with an identity keeps its subsidy", date(2025, 8, 1), True, [offer("canji", "280")], "400.00", "280.00", "120.00", NOTE_MIDYEAR_NEWBORN),
    ("newborn low-income keeps subsidy", date(2025, 8, 1), True, [offer("db", "360", low=True)], "400.00", "360.00", "40.00", NOTE_MIDYEAR_NEWBORN),
    ("newborn before 1 July: no note", date(2025, 6, 30), True, [], "400.00", "0.00", "400.00", None),
    ("not a newborn (outside the window): standard + fiscal", date(2025, 7, 10), False, [], "1070.00", "0.00", "1070.00", NOTE_MIDYEAR),
]


@pytest.mark.parametrize("label, paid_on, newborn, offers, standard, subsidy, self_pay, note", NEWBORN_CASES, ids=[c[0] for c in NEWBORN_CASES])
def test_owed_midyear_newborn(label, paid_on, newborn, offers, standard, subsidy, self_pay, note):
    result = owed(D("400"), offers, window_end=WINDOW_END, paid_on=paid_on, midyear_from=MIDYEAR,
                  midyear_pays_fiscal_subsidy=True, fiscal_subsidy=D("670"), newborn=newborn)
    assert (result.standard, result.subsidy, result.self_pay) == (D(standard), D(subsidy), D(self_pay))
    assert (note in result.notes) if note else not result.notes


def test_midyear_rule_off_when_county_has_none():
    result = owed(D("400"), [], window_end=WINDOW_END, paid_on=date(2025, 8, 1), midyear_from=None, midyear_pays_fiscal_subsidy=True)
    assert result.self_pay == D("400.00")


def test_midyear_without_fiscal_figure_charges_standard():
    result = owed(D("400"), [], paid_on=date(2025, 8, 1), midyear_from=MIDYEAR, midyear_pays_fiscal_subsidy=True, fiscal_subsidy=None)
    assert result.self_pay == D("400.00")


# Refund of the difference when an identity is certified after payment.
# (paid, paid_subsidy, offers, certified_on, refunds, only_full, after_window, expected)
REFUND_CASES = [
    ("Gaoyang: paid 380 in full, certified 低保 in window → 342 back", "380", "0", [offer("db", "342")], date(2023, 11, 1), True, False, True, "342.00"),
    ("Gaoyang: paid at 70% (114), changed to 90% after window → 76 back", "114", "266", [offer("db", "342")], date(2024, 2, 1), True, False, True, "76.00"),
    ("Qinshui: paid 320 as ordinary, certified 特困 → 320 back", "320", "80", [offer("tk", "400")], date(2025, 1, 10), True, False, False, "320.00"),
    ("Qinshui: certified after the window → next year, no refund", "320", "80", [offer("tk", "400")], date(2025, 3, 1), True, False, False, "0.00"),
    ("Shizhu: paid in full, certified → after-the-fact subsidy", "400", "0", [offer("db", "360")], date(2024, 11, 1), True, True, False, "360.00"),
    ("Shizhu: paid with subsidy, better identity → no difference", "120", "280", [offer("tk", "400")], date(2024, 11, 1), True, True, False, "0.00"),
    ("Neixiang: no refund rule", "400", "0", [offer("db", "80")], date(2024, 11, 1), False, False, False, "0.00"),
    ("new identity worse than what was paid → nothing", "40", "360", [offer("x", "200")], date(2024, 11, 1), True, False, False, "0.00"),
    ("certified on the last window day → refund", "400", "0", [offer("db", "320")], date(2024, 12, 31), True, False, False, "320.00"),
]


@pytest.mark.parametrize("label, paid, paid_subsidy, offers, certified_on, refunds, only_full, after_window, expected", REFUND_CASES, ids=[c[0] for c in REFUND_CASES])
def test_refund_difference(label, paid, paid_subsidy, offers, certified_on, refunds, only_full, after_window, expected):
    window_end = date(2023, 12, 25) if "Gaoyang" in label else date(2025, 2, 28) if "Qinshui" in label else WINDOW_END
    standard = D("380") if "Gaoyang" in label else D("400")
    got = refund_difference(
        standard=standard, paid=D(paid), paid_subsidy=D(paid_subsidy), offers=offers, certified_on=certified_on,
        window_end=window_end, refunds_difference=refunds, only_if_paid_in_full=only_full, after_window=after_window,
    )
    assert got == D(expected)
