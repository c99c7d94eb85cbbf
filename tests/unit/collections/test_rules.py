from datetime import date
from decimal import Decimal

import pytest

from collections_app import rules

D = Decimal


@pytest.mark.parametrize(
    "items, today, expect",
    [
        # nothing held
        ([], date(2026, 10, 10), (D("0"), 0, False, False)),
        # collected 5 days ago: still inside the 5-day limit
        ([(date(2026, 10, 5), "800")], date(2026, 10, 10), (D("800"), 0, False, False)),
        # 6 days ago: one day overdue
        ([(date(2026, 10, 4), "800")], date(2026, 10, 10), (D("800"), 1, False, True)),
        # reached 10,000 yuan the same day: must be remitted now
        ([(date(2026, 10, 10), "9600"), (date(2026, 10, 10), "400")], date(2026, 10, 10), (D("10000"), 0, True, False)),
        # both limits
        ([(date(2026, 10, 1), "6000"), (date(2026, 10, 9), "4400")], date(2026, 10, 10), (D("10400"), 4, True, True)),
        # just under the amount
        ([(date(2026, 10, 9), "9999.99")], date(2026, 10, 10), (D("9999.99"), 0, False, False)),
    ],
)
def test_double_limit(items, today, expect):
    state = rules.double_limit(items, today=today, remit_days=5, remit_amount=D("10000"))
    assert (state.amount, state.days_overdue, state.over_amount, state.over_days) == expect
    assert state.breached == (expect[2] or expect[3])


def test_double_limit_uses_policy_figures():
    state = rules.double_limit([(date(2026, 10, 1), "3000")], today=date(2026, 10, 4), remit_days=2, remit_amount=D("2000"))
    assert state.days_overdue == 1 and state.over_amount and state.oldest == date(2026, 10, 1)


@pytest.mark.parametrize("amount, covered, diff", [("800", "800", "0"), ("1000", "800", "200"), ("700", "800", "-100")])
def test_remittance_difference(amount, covered, diff):
    assert rules.remittance_difference(D(amount), D(covered)) == D(diff)


@pytest.mark.parametrize(
    ("total", "tendered", "change"),
    [("840.00", "1000", "160.00"), ("840.00", "840.00", "0.00"), ("40.00", "39.99", "-0.01"), ("775.00", None, None)],
)
def test_change_due(total, tendered, change):
    got = rules.change_due(total=Decimal(total), tendered=None if tendered is None else Decimal(tendered))
    assert got == (None if change is None else Decimal(change))
