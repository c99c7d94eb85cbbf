from decimal import Decimal

import pytest

from collections_app.capitals import amount_in_words


@pytest.mark.parametrize(
    "amount, words",
    [
        ("400.00", "肆佰元整"),
        ("1070.50", "壹仟零柒拾元伍角"),
        ("0", "零元整"),
        ("10005.07", "壹万零伍元零柒分"),
        ("775.00", "柒佰柒拾伍元整"),
        ("380", "叁佰捌拾元整"),
        ("375.00", "叁佰柒拾伍元整"),
        ("1200.00", "壹仟贰佰元整"),
        ("10", "壹拾元整"),
        ("10000", "壹万元整"),
        ("10000.00", "壹万元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("110000", "壹拾壹万元整"),
        ("1010", "壹仟零壹拾元整"),
        ("0.50", "伍角"),
        ("0.05", "伍分"),
        ("0.55", "伍角伍分"),
        ("1.05", "壹元零伍分"),
        ("40.40", "肆拾元肆角"),
        ("100000000", "壹亿元整"),
        ("100000005", "壹亿零伍元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("-400", "负肆佰元整"),
        # the Shizhu self-pay amounts and the edge cases the audit asked for
        ("40.00", "肆拾元整"),
        ("1070.00", "壹仟零柒拾元整"),
        ("10000.50", "壹万元伍角"),
        ("0.00", "零元整"),
        ("120.00", "壹佰贰拾元整"),
        ("455.00", "肆佰伍拾伍元整"),
        ("575.00", "伍佰柒拾伍元整"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_rounds_to_cents():
    assert amount_in_words(Decimal("400.005")) == "肆佰元零壹分"
