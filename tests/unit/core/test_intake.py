"""The one reader and header finder (core.intake): every format the offices send reads to the
same rows, and the three importers — roster, identity lists, tax filings — find the same header
below the same title rows."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from collections_app.tax_import import readers
from core import cells, idcard, intake, spreadsheets
from enrollment import identity_lists, roster_import
from tests.unit.core.intake_files import FORMATS, ods_bytes, sheet_bytes, xls_bytes

ID1 = idcard.make("411325", date(1980, 5, 17), 123)
ID2 = idcard.make("411325", date(1990, 1, 1), 2)
TITLE = "2027年度内乡县城乡居民医保参保花名册"
HEADER = ["户号", "姓名", "身份证号码", "资助类别", "认定日期", "缴费金额"]
# A title row (merged across), a blank row, the header at row 3, two people, a totals row.
SHEET = [
    [TITLE],
    [],
    HEADER,
    ["00001", "张三", ID1, "特困人员", "2024-01-05", "400元"],
    ["00001", "李四", ID2, "低保对象", "2024/1/5", 380],
    ["合计", "", "", "", "", 780],
]
KIND = {"xlsx": "xlsx", "xls": "xls", "ods": "ods", "csv-utf8": "csv", "csv-gbk": "csv"}


def upload(fmt: str, rows=SHEET) -> io.BytesIO:
    buf = io.BytesIO(sheet_bytes(fmt, rows))
    buf.name = f"名单.{KIND[fmt]}"
    return buf


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_door_knows_every_format_by_its_content(fmt):
    assert spreadsheets.check_upload(upload(fmt)) == KIND[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_to_the_same_data_rows(fmt):
    sheet = intake.open_upload(upload(fmt))
    rows = sheet.rows()
    header = intake.find_header(rows, identity_lists.COLUMNS)
    assert header is not None and header.line == 3
    got = [(line, [cells.text(c) for c in r[:6]]) for line, r in intake.data_rows(rows, header, identity_lists.COLUMNS)]
    assert got == [
        (4, ["00001", "张三", ID1, "特困人员", "2024-01-05", "400元"]),
        (5, ["00001", "李四", ID2, "低保对象", "2024/1/5", "380"]),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_three_importers_find_the_same_header_in_the_same_file(fmt):
    # tax filing
    filing, filing_rows = readers.read_filing(readers.open_sheet(upload(fmt), KIND[fmt]), default_year=2027)
    filing_rows = list(filing_rows)
    assert filing.header_row == 3 and filing.totals_rows == 1
    assert {k: filing.columns[k] for k in ("name", "id_number", "amount")} == {"name": 1, "id_number": 2, "amount": 5}
    assert [(r.row_number, r.id_number, r.amount) for r in filing_rows] == [(4, ID1, Decimal("400.00")), (5, ID2, Decimal("380.00"))]
    # identity list
    cols, body = identity_lists.split_header(identity_lists.read_rows(upload(fmt)))
    assert cols == {"name": 1, "id_number": 2, "category": 3, "certified_on": 4}
    assert [line for line, _ in body] == [4, 5]
    assert [cells.parse_date(r[4]) for _, r in body] == [date(2024, 1, 5)] * 2
    # roster
    dataset, lines = roster_import.load(upload(fmt).getvalue())
    assert dataset.headers[:3] == ["户号", "姓名", "身份证号码"] and lines == [4, 5]
    assert [cells.normalise_id(r[2]) for r in dataset] == [ID1, ID2]


def test_a_real_xls_passes_the_door_and_reads():
    data = xls_bytes([["身份证号码", "金额"], [ID1, 400]])
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    assert spreadsheets.check_upload(io.BytesIO(data)) == "xls"
    assert intake.read_rows(io.BytesIO(data)) == [["身份证号码", "金额"], [ID1, 400.0]]


def test_an_id_stored_as_a_number_stays_refusable_in_every_binary_format():
    for data in (xls_bytes([["身份证号码"], [4.11325e17]]), ods_bytes([["身份证号码"], [4.11325e17]])):
        (header, (cell,)) = intake.read_rows(io.BytesIO(data))
        assert isinstance(cell, float)
        with pytest.raises(idcard.IdNumberError) as exc:
            cells.normalise_id(cell)
        assert exc.value.message == idcard.ERR_NUMERIC_CELL


def test_an_xls_or_ods_longer_than_the_limit_is_refused(settings):
    settings.CANBAO_MAX_IMPORT_ROWS = 5
    rows = [["身份证号码"]] + [[ID1]] * (5 + spreadsheets.TITLE_ROWS + 1)
    for data in (xls_bytes(rows), ods_bytes(rows)):
        with pytest.raises(spreadsheets.UploadError) as exc:
            intake.read_rows(io.BytesIO(data))
        assert exc.value.message.startswith("工作表超过上限")


def test_an_ods_with_a_dtd_is_refused():
    src = zipfile.ZipFile(io.BytesIO(ods_bytes([["a"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "content.xml":
                body = body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            dst.writestr(info, body)
    with pytest.raises(spreadsheets.UploadError) as exc:
        intake.read_rows(io.BytesIO(out.getvalue()))
    assert exc.value.message == spreadsheets.ERR_DTD


def test_the_ole_magic_alone_is_not_an_xls():
    with pytest.raises(spreadsheets.UploadError) as exc:
        spreadsheets.check_upload(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600))
    assert exc.value.message == spreadsheets.ERR_CORRUPT


# --- The header finder ----------------------------------------------------------------------
COLUMNS = intake.Columns({"id_number": ("身份证号码", "公民身份号码"), "name": ("姓名",), "amount": ("缴费金额",)},
                         required=("id_number", "name"))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["姓名", "身份证号码"]], (1, {"name": 0, "id_number": 1})),
        ([[TITLE], ["姓名", "身份证号码"]], (2, {"name": 0, "id_number": 1})),
        ([[TITLE, TITLE, TITLE], [], ["制表单位：某村", ""], ["序号", "姓名", "公民身份号码", "缴费金额"]],
         (4, {"name": 1, "id_number": 2, "amount": 3})),  # a merged title, a blank row, a note
        ([["* 姓 名", "身份证号码（18位）"]], (1, {"name": 0, "id_number": 1})),  # stars, spaces, a unit in brackets
        ([["姓名", "身份证号码", "姓名"]], (1, {"name": 0, "id_number": 1})),  # the first occurrence wins
        ([["ｓ", "姓名", "身份证号码"]], (1, {"name": 1, "id_number": 2})),
        ([["姓名", "缴费金额"]], None),  # a required column missing
        ([[TITLE]] * 30 + [["姓名", "身份证号码"]], None),  # below the rows allowed for titles
        ([[TITLE]] * 29 + [["姓名", "身份证号码"]], (30, {"name": 0, "id_number": 1})),
        ([[1.0, 2.0], ["姓名", "身份证号码"]], (2, {"name": 0, "id_number": 1})),  # numbers are never header names
    ],
)
def test_find_header(rows, expected):
    header = intake.find_header(iter(enumerate(rows, start=1)), COLUMNS)
    assert (header.line, header.columns) == expected if expected else header is None


def test_data_rows_leave_out_blank_totals_and_repeated_header_rows():
    rows = iter(enumerate([["姓名", "身份证号码"], ["张三", ID1], ["", " "], ["小计", ""], ["姓名", "身份证号码"],
                           ["李四", ID2], ["总 计", "2人"], ["王五合计", ID1]], start=1))
    header = intake.find_header(rows, COLUMNS)
    assert [line for line, _ in intake.data_rows(rows, header, COLUMNS)] == [2, 6, 8]  # a row with an ID is data


def test_normalise_header():
    assert intake.normalise_header("实缴金额（元）") == "实缴金额"
    assert intake.normalise_header(" 身份证号码\n(18位) ") == "身份证号码"
    assert intake.normalise_header("Ｎａｍｅ：") == "name"
    assert intake.normalise_header(None) == ""
