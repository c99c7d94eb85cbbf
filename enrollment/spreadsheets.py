"""Shared spreadsheet safety: what every import accepts and every export writes.

- ``check_upload``: size limit, real xlsx/csv content (not a renamed file), no zip bomb.
- ``safe_cell``: values a spreadsheet would run as a formula are escaped on export.
- ``xlsx_response``: a styled openpyxl workbook as a download, always through safe_cell.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.http import HttpResponse

ERR_TOO_BIG = "文件太大（{size:.1f} MB），上限为 {limit:.0f} MB，请拆分后分批导入。"
ERR_EMPTY_FILE = "文件是空的。"
ERR_NOT_SPREADSHEET = "文件不是有效的 Excel（.xlsx）或 CSV 文件，请用 Excel 另存为 .xlsx 后重新上传。"
ERR_XLS_OLD = "不支持旧版 .xls 格式，请用 Excel 另存为 .xlsx 后重新上传。"
ERR_ZIP_BOMB = "文件解压后异常巨大（可能是恶意文件），已拒绝导入。"
ERR_CORRUPT = "文件已损坏，无法打开：{detail}"
ERR_TOO_MANY_ROWS = "文件超过 {limit:,} 行，请拆分后分批导入。"
ERR_CSV_ENCODING = "CSV 文件的编码无法识别，请用 UTF-8 或 GBK 编码另存后重新上传。"

MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024  # 1 GiB of XML is far beyond a county's sheet
MAX_RATIO = 200  # real xlsx compress ~10-30x; bombs compress thousands of times

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class UploadError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sniff_kind(head: bytes, name: str = "") -> str:
    """'xlsx', 'csv' or raise UploadError, by content (the extension is not trusted)."""
    if not head:
        raise UploadError(ERR_EMPTY_FILE)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(ERR_XLS_OLD)
    sample = head[:4096]
    if b"\x00" in sample:
        raise UploadError(ERR_NOT_SPREADSHEET)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(encoding)
            return "csv"
        except UnicodeDecodeError as exc:
            if exc.start > len(sample) - 4:  # a multi-byte char cut by the sample boundary
                return "csv"
    raise UploadError(ERR_NOT_SPREADSHEET)


def check_upload(fileobj, *, name: str = "") -> str:
    """Validate an uploaded file-like object; return its kind. Leaves the file at position 0."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    limit = settings.CANBAO_MAX_UPLOAD_BYTES
    if size > limit:
        raise UploadError(ERR_TOO_BIG.format(size=size / 1e6, limit=limit / 1e6))
    kind = sniff_kind(fileobj.read(8192), name)
    fileobj.seek(0)
    if kind == "xlsx":
        try:
            with zipfile.ZipFile(fileobj) as zf:
                names = set(zf.namelist())
                if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                    raise UploadError(ERR_NOT_SPREADSHEET)
                unzipped = sum(info.file_size for info in zf.infolist())
                if unzipped > MAX_UNZIPPED_BYTES or (size and unzipped / size > MAX_RATIO and unzipped > 50 * 1024 * 1024):
                    raise UploadError(ERR_ZIP_BOMB)
        except zipfile.BadZipFile as exc:
            raise UploadError(ERR_CORRUPT.format(detail=exc)) from None
        finally:
            fileobj.seek(0)
    return kind


def read_rows(fileobj, *, name: str = "", max_rows: int | None = None) -> list[list]:
    """Every non-blank row of the first sheet (xlsx, read with python-calamine) or of a CSV
    (UTF-8 or GB18030), as lists of raw cell values. The upload is checked first; more than
    ``max_rows`` data rows (default CANBAO_MAX_IMPORT_ROWS) is refused, never silently cut."""
    kind = check_upload(fileobj, name=name)
    limit = max_rows or settings.CANBAO_MAX_IMPORT_ROWS
    if kind == "xlsx":
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(fileobj.read())).get_sheet_by_index(0)
            raw = sheet.iter_rows()
        except (CalamineError, ValueError, IndexError) as exc:
            raise UploadError(ERR_CORRUPT.format(detail=exc)) from None
    else:
        data = fileobj.read()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UploadError(ERR_CSV_ENCODING)
        import csv

        raw = csv.reader(io.StringIO(text))
    rows = []
    for row in raw:
        if any(c not in (None, "") for c in row):
            rows.append(list(row))  # numbers come as float: an ID stored as a number stays detectable
            if len(rows) > limit + 1:  # + the header row
                raise UploadError(ERR_TOO_MANY_ROWS.format(limit=limit))
    return rows


def safe_cell(value):
    """Escape text that a spreadsheet would evaluate as a formula (=, +, -, @ …)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xlsx_response(workbook, filename: str) -> HttpResponse:
    buf = io.BytesIO()
    workbook.save(buf)
    resp = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    from urllib.parse import quote

    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


def write_rows(ws, header, rows, *, id_columns=()):
    """Write a header and rows through safe_cell; ID columns are stored as text."""
    from openpyxl.styles import Font, PatternFill

    ws.append([safe_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F4")
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    for col in id_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "@"
    for i, h in enumerate(header, 1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, min(40, len(str(h)) * 2 + 4))
