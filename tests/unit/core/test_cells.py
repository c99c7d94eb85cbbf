"""The one cell normaliser (core.cells): the forms each kind of cell comes in, as table tests."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from core import cells, idcard
from core.cells import CellError

ID1 = idcard.make("411325", date(1980, 5, 17), 123)
ID_X = next(idcard.make("411325", date(1975, 3, d), 11) for d in range(1, 29) if idcard.make("411325", date(1975, 3, d), 11).endswith("X"))


@pytest.mark.parametrize(
    "raw, number",
    [
        ("00001", "00001"),
        (" 00001 ", "00001"),
        ("００００１", "00001"),  # full-width digits, as a Chinese input method types them
        ("\u300000 001\t", "00001"),  # ideographic and inner spaces
        ("３组－１２", "3组-12"),
        ("", ""),
        (None, ""),
    ],
)
def test_household_number_is_text_normalised(raw, number):
    assert cells.household_number(raw) == number


@pytest.mark.parametrize(
    "cell, shown",
    [
        (1, "1"),  # 00001 typed into a number cell
        (12, "12"),  # no zeros visible, but the cell cannot say whether 0012 was meant
        (1.0, "1"),
        (12.5, "12.5"),
        (410325001234, "4.10325E+11"),  # a 12-digit number as Excel's General format shows it
        (10**12, "1E+12"),
    ],
)
def test_a_numeric_household_cell_is_refused_as_excel_showed_it(cell, shown):
    with pytest.raises(cells.HouseholdNumberError) as exc:
        cells.household_number(cell)
    assert exc.value.message == cells.ERR_HOUSEHOLD_NUMBER_CELL.format(shown=shown)
    assert "文本" in exc.value.message and "'00001" in exc.value.message


# --- Amounts, dates and ID numbers (moved here with the functions from the tax reader) -------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (400, "400.00"), (400.0, "400.00"), ("400", "400.00"), ("400.00", "400.00"), ("400元", "400.00"),
        (" 400 元 ", "400.00"), ("￥1,200.50", "1200.50"), ("４００", "400.00"), (0, "0.00"), ("775.00元", "775.00"),
        (Decimal("380"), "380.00"), (399.999999999, "400.00"),
    ],
)
def test_amounts(value, expected):
    assert cells.parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, cells.ERR_AMOUNT_EMPTY), ("", cells.ERR_AMOUNT_EMPTY), ("四百元", cells.ERR_AMOUNT.format(value="四百元")),
        ("400;DROP", cells.ERR_AMOUNT.format(value="400;DROP")), (-400, cells.ERR_AMOUNT_NEGATIVE.format(value="-400")),
        ("1e400", cells.ERR_AMOUNT.format(value="1e400")),
    ],
)
def test_bad_amounts(value, message):
    with pytest.raises(CellError) as exc:
        cells.parse_amount(value)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 10, 5), date(2024, 10, 5)), (datetime(2024, 10, 5, 9, 30), date(2024, 10, 5)),
        (45570, date(2024, 10, 5)), (45570.4, date(2024, 10, 5)), ("2024-10-05", date(2024, 10, 5)),
        ("2024/10/5", date(2024, 10, 5)), ("2024年10月5日", date(2024, 10, 5)), ("2024.10.05", date(2024, 10, 5)),
        ("20241005", date(2024, 10, 5)), (20241005, date(2024, 10, 5)), ("2024-10-05 14:03:22", date(2024, 10, 5)),
        ("２０２４年１０月５日", date(2024, 10, 5)), (None, None), ("  ", None),
    ],
)
def test_dates(value, expected):
    assert cells.parse_date(value) == expected


@pytest.mark.parametrize("value", ["2024-13-05", "10/5/2024", "昨天", "2024年2月30日", -5])
def test_bad_dates(value):
    with pytest.raises(CellError) as exc:
        cells.parse_date(value)
    assert "无法识别" in exc.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(f" {ID1[:6]} {ID1[6:]} ", ID1), (ID_X.lower(), ID_X), (ID1.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}), ID1)],
)
def test_id_normalised(raw, expected):
    assert cells.normalise_id(raw) == expected


@pytest.mark.parametrize("char", ["²", "①", "٣"])
@pytest.mark.parametrize("pos", [0, 3, 10, 16, 17])
def test_id_with_a_non_ascii_digit_is_the_rows_error(char, pos):
    with pytest.raises(idcard.IdNumberError) as exc:
        cells.normalise_id(ID1[:pos] + char + ID1[pos + 1 :])
    assert exc.value.message == idcard.ERR_CHARS


@pytest.mark.parametrize("raw", [4.11325e17, 411325198005171234, 4.113251980051712e17, "4.11325E+17"])
def test_numeric_id_cell_rejected_with_exact_message(raw):
    with pytest.raises(idcard.IdNumberError) as exc:
        cells.normalise_id(raw)
    assert exc.value.message == idcard.ERR_NUMERIC_CELL


# The forms the offices write, one table per kind of cell.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", date(2024, 1, 5)), ("2024/1/5", date(2024, 1, 5)), ("2024.1.5", date(2024, 1, 5)),
        ("2024年1月5日", date(2024, 1, 5)), ("20240105", date(2024, 1, 5)), (45296, date(2024, 1, 5)),
        (45296.0, date(2024, 1, 5)), (datetime(2024, 1, 5, 0, 0), date(2024, 1, 5)), ("2024 年 1 月 5 日", date(2024, 1, 5)),
        ("２０２４－０１－０５", date(2024, 1, 5)), ("2024/01/05 08:30", date(2024, 1, 5)), ("", None),
    ],
)
def test_date_forms(value, expected):
    assert cells.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,200元", "1200.00"), ("１，２００．５０元", "1200.50"), ("RMB 380", "380.00"), ("380圆", "380.00"),
        (380.1 + 0.2, "380.30"), (Decimal("380.005"), "380.01"), (0.0, "0.00"),
    ],
)
def test_amount_forms_are_decimal(value, expected):
    amount = cells.parse_amount(value)
    assert isinstance(amount, Decimal) and amount == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (ID1, ID1), (ID_X, ID_X), (ID_X[:-1] + "x", ID_X), (f"{ID1} ", ID1), (f"\u3000{ID1}", ID1),
        ("".join(chr(ord(c) + 0xFEE0) for c in ID_X[:-1]) + "ｘ", ID_X),
    ],
)
def test_id_forms(raw, expected):
    assert cells.normalise_id(raw) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""), ("  张三 ", "张三"), (1.0, "1"), (13800138000.0, "13800138000"), (12.5, "12.5"),
        (date(2024, 1, 5), "2024-01-05"), (datetime(2024, 1, 5), "2024-01-05"), ("a\x00b", "ab"), ("长" * 300, "长" * 199 + "…"),
    ],
)
def test_text(value, expected):
    assert cells.text(value) == expected


@pytest.mark.parametrize(("value", "blank"), [(None, True), ("", True), (" \u3000", True), (0, False), ("0", False)])
def test_is_blank(value, blank):
    assert cells.is_blank(value) is blank


@pytest.mark.parametrize(
    ("row", "totals"),
    [
        (["合计", "", 780], True), (["", "总 计", ""], True), (["小计：3人"], True), (["张三", ID1], False),
        (["合计", ID1], False),  # a row with an ID is somebody, whatever its first cell says
    ],
)
def test_is_totals_row(row, totals):
    assert cells.is_totals_row(row, 1) is totals
