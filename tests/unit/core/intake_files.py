"""The same sheet in every format the offices send: xlsx (openpyxl), xls (xlwt, a dev dependency;
tests skip without it), ods (a minimal OpenDocument zip written here) and csv (UTF-8 or GBK)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

import openpyxl
import pytest

FORMATS = ("xlsx", "xls", "ods", "csv-utf8", "csv-gbk")


def sheet_bytes(fmt: str, rows: list[list], *, merge_title: bool = True) -> bytes:
    """``rows`` (the first may be a title, merged across when ``merge_title``) in format ``fmt``."""
    width = max(len(r) for r in rows)
    if fmt == "xlsx":
        return xlsx_bytes(rows, merge=(0, width) if merge_title else None)
    if fmt == "xls":
        return xls_bytes(rows, merge=(0, width) if merge_title else None)
    if fmt == "ods":
        return ods_bytes(rows)
    return csv_bytes(rows, encoding="gbk" if fmt == "csv-gbk" else "utf-8-sig")


def xlsx_bytes(rows, *, merge=None) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(list(r))
    if merge is not None:
        wb.active.merge_cells(start_row=merge[0] + 1, start_column=1, end_row=merge[0] + 1, end_column=merge[1])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(rows, *, merge=None) -> bytes:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or (merge is not None and r == merge[0] and c > 0):
                continue
            if merge is not None and r == merge[0] and c == 0:
                ws.write_merge(r, r, 0, merge[1] - 1, value)
            elif isinstance(value, (date, datetime)):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ods_cell(value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        return f'<table:table-cell office:value-type="boolean" office:boolean-value="{str(value).lower()}"/>'
    if isinstance(value, (int, float)):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    if isinstance(value, (date, datetime)):
        return f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def ods_bytes(rows) -> bytes:
    """An OpenDocument spreadsheet as LibreOffice stores one: the mimetype first and uncompressed."""
    body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Sheet1">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def csv_bytes(rows, *, encoding: str = "utf-8-sig") -> bytes:
    def cell(v):
        return "" if v is None else v.isoformat() if isinstance(v, (date, datetime)) else str(v)

    return "".join(",".join(cell(v) for v in r) + "\n" for r in rows).encode(encoding)
