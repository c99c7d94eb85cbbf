"""Messy tax-office exports, built with openpyxl the way offices produce them."""

import io
import zipfile

import openpyxl

STANDARD_HEADER = ["序号", "姓名", "公民身份号码", "缴费档次", "缴费金额", "缴费日期", "电子税票号", "缴费渠道", "参保地"]


def workbook_bytes(rows, *, title_rows=("内乡县城乡居民医疗保险缴费明细", "导出日期：2024年10月31日"), header=None, merge_title=True, numeric_id_rows=()):
    """An xlsx with title rows (merged across), a header and data rows (lists, may hold numbers/dates)."""
    header = header or STANDARD_HEADER
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "缴费明细"
    for t in title_rows:
        ws.append([t])
        if merge_title:
            r = ws.max_row
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, *, header=None, encoding="utf-8-sig"):
    header = header or STANDARD_HEADER
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def corrupt_xlsx(valid: bytes) -> bytes:
    """A real zip with xlsx parts whose sheet XML is cut in the middle."""
    src = zipfile.ZipFile(io.BytesIO(valid))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    return out.getvalue()
