"""Reader and cell normalisers on messy exports (no database)."""

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from collections_app.tax_import import readers
from collections_app.tax_import.readers import CellError
from core import cells, idcard
from tests.unit.collections.tax_import_files import corrupt_xlsx, csv_bytes, workbook_bytes

ID1 = idcard.make("411325", date(1980, 5, 17), 123)
ID2 = idcard.make("411325", date(1990, 1, 1), 2)
ID_X = next(idcard.make("411325", date(1975, 3, d), 11) for d in range(1, 29) if idcard.make("411325", date(1975, 3, d), 11).endswith("X"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (2.0, 2), ("1", 1), ("一档", 1), ("第二档", 2), ("2档", 2), ("二档（775元）", 2), (None, None)],
)
def test_tiers(value, expected):
    assert readers.parse_tier(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("微信", "online"), ("支付宝缴费", "online"), ("个人自缴（手机APP）", "online"), ("电子税务局", "online"),
        ("现金", "collector"), ("代征", "collector"), ("村协办员代收", "collector"), ("批量申报", "collector"), ("", ""), ("其他", ""),
    ],
)
def test_channels(value, expected):
    assert readers.channel_kind(value) == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"), ("公民身份号码", "id_number"), ("身份证号码", "id_number"), ("证件号码", "id_number"),
        ("缴费金额", "amount"), ("实缴金额（元）", "amount"), ("缴费档次", "tier"), ("缴费日期", "paid_on"),
        ("入库日期", "treasury_on"), ("税票号码", "voucher"), ("电子税票号", "voucher"), ("缴费渠道", "channel"),
        ("参保地/村", "place"), ("村（社区）", "place"), ("乡镇（街道）", "township"), ("待遇年度", "year"),
        ("费款所属期", "year"), ("身份证号码\n(18位)", "id_number"), ("*姓 名", "name"), ("应缴金额", None), ("序号", None),
    ],
)
def test_header_names(header, field):
    assert readers.header_field(header) == field


def _read(data: bytes, kind="xlsx", year=2025, engine="calamine"):
    sheet = readers.open_sheet(io.BytesIO(data), kind, engine=engine)
    filing, rows = readers.read_filing(sheet, default_year=year)
    return filing, list(rows)


def test_messy_workbook_read_row_by_row():
    data = workbook_bytes(
        [
            [1, "张三", ID1, "一档", "400元", "2024/10/5", "3411245000001", "微信", "甲一村"],
            [None, None, None, None, None, None, None, None, None],  # blank line
            [2, "李四", f"{ID2[:6]} {ID2[6:]}", 1, 400.0, 45570, 3411245000002.0, "现金", "甲二村"],
            [3, "王五", 4.11325e17, 1, 400, "2024年10月5日", "3411245000003", "微信", "甲一村"],
            [4, "赵六", ID_X.lower(), 2, "775.00", "2024-10-06", "3411245000004", "支付宝", "甲一村"],
            ["合计", None, None, None, 1975, None, None, None, None],
        ]
    )
    filing, rows = _read(data)
    assert filing.header_row == 3 and filing.blank_rows == 1 and filing.totals_rows == 1
    assert [r.row_number for r in rows] == [4, 6, 7, 8]
    a, b, c, d = rows
    assert (a.id_number, a.amount, a.tier, a.paid_on, a.voucher, a.online) == (ID1, Decimal("400.00"), 1, date(2024, 10, 5), "3411245000001", True)
    assert (b.id_number, b.paid_on, b.voucher, b.online) == (ID2, date(2024, 10, 5), "3411245000002", False)
    assert c.errors == [idcard.ERR_NUMERIC_CELL] and readers.shown(c.raw_id) == "4.11325E+17"
    assert (d.id_number, d.amount, d.tier, d.year) == (ID_X, Decimal("775.00"), 2, 2025)


def test_merged_cells_filled_from_top_left():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["城乡居民医保缴费明细"])
    ws.merge_cells("A1:F1")
    ws.append(["参保地", "缴费人信息", None, "缴费信息", None, None])
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:F2")
    ws.append(["参保地", "姓名", "身份证号码", "实缴金额", "入库日期", "税票号码"])
    ws.merge_cells("A2:A3")
    ws.append(["甲一村", "张三", ID1, 400, "2024-10-05", "A1"])
    ws.append([None, "李四", ID2, 400, "2024-10-05", "A2"])
    ws.merge_cells("A4:A5")
    buf = io.BytesIO()
    wb.save(buf)
    filing, rows = _read(buf.getvalue())
    assert filing.header_row == 3
    assert [r.place for r in rows] == ["甲一村", "甲一村"]
    assert rows[1].treasury_on == date(2024, 10, 5)


def test_year_column_overrides_default():
    header = ["姓名", "证件号码", "实缴金额", "费款所属期", "税票号码"]
    data = workbook_bytes([["张三", ID1, 380, "2024-01-01至2024-12-31", "V1"], ["李四", ID2, 400, "", "V2"]], header=header)
    _, rows = _read(data, year=2025)
    assert [r.year for r in rows] == [2024, 2025]


def test_a_true_cell_is_not_mistaken_for_one():
    """Normalised cells are memoised per filing; TRUE == 1 as a dict key, so booleans never are."""
    data = workbook_bytes([
        [1, "张三", ID1, True, 1, "2024-10-05", "V1", "微信", "甲一村"],
        [2, "李四", ID2, 1, True, "2024-10-05", "V2", "微信", "甲一村"],
        [3, "王五", ID1, True, 1, "2024-10-05", "V3", "微信", "甲一村"],
    ])
    _, rows = _read(data)
    assert [(r.tier, r.amount) for r in rows] == [(None, Decimal("1.00")), (1, None), (None, Decimal("1.00"))]
    assert rows[0].error == rows[2].error == readers.ERR_TIER.format(value="True")
    assert rows[1].error == cells.ERR_AMOUNT.format(value="True")


def test_openpyxl_engine_reads_the_same_rows():
    data = workbook_bytes([[1, "张三", ID1, 1, "400", "2024-10-05", "V1", "微信", "甲一村"]])
    _, rows_c = _read(data)
    _, rows_o = _read(data, engine="openpyxl")
    assert [(r.id_number, r.amount, r.paid_on) for r in rows_c] == [(r.id_number, r.amount, r.paid_on) for r in rows_o]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_in_both_encodings(encoding):
    data = csv_bytes([[1, "张三", ID1, 1, "400元", "2024年10月5日", "V1", "微信", "甲一村"]], encoding=encoding)
    _, rows = _read(data, kind="csv")
    assert rows[0].id_number == ID1 and rows[0].name == "张三" and rows[0].amount == Decimal("400.00")


def test_no_header_is_an_error():
    data = workbook_bytes([["a", "b"]], header=["甲", "乙"])
    with pytest.raises(readers.ReaderError) as exc:
        _read(data)
    assert exc.value.message == readers.ERR_NO_HEADER.format(rows=readers.HEADER_SCAN_ROWS)


def test_zero_data_rows():
    filing, rows = _read(workbook_bytes([]))
    assert rows == [] and filing.header_row == 3


def test_corrupt_xlsx_is_a_reader_error():
    data = corrupt_xlsx(workbook_bytes([[1, "张三", ID1, 1, 400, "2024-10-05", "V1", "微信", "甲一村"]] * 50))
    with pytest.raises(readers.ReaderError) as exc:
        _read(data)
    assert exc.value.message.startswith("文件已损坏")


def test_huge_cell_is_capped_and_row_invalid():
    huge = "9" * 32000
    data = workbook_bytes([[1, "张" * 5000, huge, 1, huge, "2024-10-05", "V" * 5000, "微信", "村" * 5000]])
    _, rows = _read(data)
    (row,) = rows
    assert len(row.name) <= 50 and len(readers.shown(row.raw_id)) <= 40 and len(row.voucher) <= 60 and len(row.place) <= 100
    assert idcard.ERR_LENGTH.format(length=32000) in row.errors
    assert any(e.startswith("缴费金额") for e in row.errors)


def test_repeated_header_line_is_skipped():
    data = workbook_bytes([[1, "张三", ID1, 1, 400, "2024-10-05", "V1", "微信", "甲一村"], ["序号", "姓名", "公民身份号码", "缴费档次", "缴费金额", "缴费日期", "电子税票号", "缴费渠道", "参保地"]])
    _, rows = _read(data)
    assert len(rows) == 1


def test_sample_fixture_reads_as_documented():
    """The sample (made from the demo roster by reporting/demo_filing.py) holds the formats offices write."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "fixtures" / "sample_tax_filing.xlsx"
    sheet = readers.open_sheet(str(path))
    filing, rows = readers.read_filing(sheet, default_year=2025)
    rows = list(rows)
    assert filing.header_row == 3 and filing.totals_rows == 1 and filing.blank_rows == 1
    assert len(rows) == 12
    assert [r.errors for r in rows[:11]] == [None] * 11
    assert rows[11].errors == [idcard.ERR_NUMERIC_CELL]
    assert {r.amount for r in rows[:6]} == {Decimal("400.00")} and rows[7].amount == Decimal("380.00")
    assert [r.online for r in rows[:3]] == [True, False, True]
    assert {r.year for r in rows[:11]} == {2027}  # the file names its benefit year
    assert rows[0].township == "演示乡镇01（内乡）" and rows[10].place == "不存在村"


def _one_row(voucher_cell, **kw):
    data = workbook_bytes([[1, "张三", ID1, 1, 400, "2024-10-05", voucher_cell, "微信", "甲一村"]], **kw)
    _, rows = _read(data)
    (row,) = rows
    return row


def test_voucher_limit_is_the_enrollment_field():
    from enrollment.models import Enrollment

    assert readers.VOUCHER_MAX == Enrollment._meta.get_field("tax_voucher").max_length


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("341100000000000123", "341100000000000123"), ("V" * 40, "V" * 40), (" 3411 0000 ", "34110000"),
        ("３４１１", "3411"), (123456, "123456"), (123456.0, "123456"), (999999999999999.0, "999999999999999"),
        (None, ""), ("", ""), ("V\x00001", "V001"),
    ],
)
def test_vouchers(value, expected):
    assert readers.voucher_text(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("V" * 41, readers.ERR_VOUCHER_TOO_LONG.format(length=41, limit=40)),
        ("电子税票" * 20, readers.ERR_VOUCHER_TOO_LONG.format(length=80, limit=40)),
        (3.41100000000012e15, readers.ERR_VOUCHER_NUMERIC.format(shown="3.411E+15")),
        (1e15, readers.ERR_VOUCHER_NUMERIC.format(shown="1E+15")),
        (4.11325e17, readers.ERR_VOUCHER_NUMERIC.format(shown="4.11325E+17")),
        ("3.41101E+15", readers.ERR_VOUCHER_NUMERIC.format(shown="3.41101E+15")),
    ],
)
def test_bad_vouchers(value, message):
    with pytest.raises(CellError) as exc:
        readers.voucher_text(value)
    assert exc.value.message == message


def test_over_long_voucher_makes_the_row_invalid_with_its_length():
    row = _one_row("V" * 5000)
    assert row.errors == [readers.ERR_VOUCHER_TOO_LONG.format(length=5000, limit=40)]
    assert len(row.voucher) <= 60  # shown (cut) in the problem row


def test_voucher_stored_as_a_big_number_is_rejected_small_one_kept():
    row = _one_row(3411000000000123)  # Excel keeps it as 3.41100000000012E+15: the last digit is gone
    assert row.errors == [readers.ERR_VOUCHER_NUMERIC.format(shown="3.411E+15")]
    assert _one_row(20240001).voucher == "20240001" and _one_row(20240001).errors is None


def test_nul_characters_are_dropped_from_text_cells():
    data = csv_bytes([[1, "张\x00三", ID1, 1, 400, "2024-10-05", "V\x001", "微\x00信", "甲一村\x00"]])
    _, rows = readers.read_filing(readers.open_sheet(io.BytesIO(data), "csv"), default_year=2025)
    (row,) = list(rows)
    assert (row.name, row.voucher, row.channel, row.place, row.errors) == ("张三", "V1", "微信", "甲一村", None)
