"""Shared spreadsheet safety: what every import accepts and every export writes.

- ``check_upload``: at the door, without decompressing anything: size limit, real xlsx, xls, ods
  or csv content (not a renamed file), a zip whose declared sizes are sane.
- ``check_sheet``: what the reader (``core.intake``) calls right before python-calamine, openpyxl
  or csv sees the file. It streams every zip
  member counting the bytes really decompressed (declared sizes can lie), refuses DTD/ENTITY
  declarations, and scans each worksheet's cell addresses so a sheet whose extent (rows x columns
  from its first to its last address: what calamine allocates, ~32 bytes a cell), declared
  dimension (what openpyxl pads rows to), row count or cell count is beyond the limits is refused,
  as soon as a limit is crossed. An ods's zip is streamed the same way (real size, no DTD) and its
  rows and cells counted; an xls (one binary stream, no zip) has the size limit here and its
  extent checked on what calamine read (``core.intake.CalamineSheet``). CSV: rows counted,
  stopping at the limit.
- ``safe_cell``: values a spreadsheet would run as a formula are escaped on export.
- ``xlsx_response``: a styled openpyxl workbook as a download, always through safe_cell.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib

from django.conf import settings
from django.http import HttpResponse

ERR_TOO_BIG = "文件太大（{size:.1f} MB），上限为 {limit:.0f} MB，请拆分后分批导入。"
ERR_EMPTY_FILE = "文件是空的。"
ERR_NOT_SPREADSHEET = "文件不是有效的 Excel（.xlsx、.xls）、WPS/LibreOffice（.ods）或 CSV 文件，请用 Excel 另存为 .xlsx 后重新上传。"
ERR_ZIP_BOMB = "文件解压后异常巨大（可能是恶意文件），已拒绝导入。"
ERR_CORRUPT = "文件已损坏，无法打开。请用 Excel 打开后另存为 .xlsx 再上传；如果打不开，请向发文件的单位重新索取。"
ERR_TOO_MANY_ROWS = "文件超过 {limit:,} 行，请拆分后分批导入。"
ERR_CSV_ENCODING = "CSV 文件的编码无法识别，请用 UTF-8 或 GBK 编码另存后重新上传。"
ERR_DTD = "文件中含有 DTD 或实体声明（Excel 保存的文件不会有），可能是恶意文件，已拒绝导入。请用 Excel 打开后另存为 .xlsx 再上传。"
ERR_SHEET_TOO_WIDE = (
    "工作表中有单元格远在第{cols:,}列（上限{limit}列），多半是远处的单元格误填了内容或设置了格式。"
    "请删除数据右侧多余的列（或把数据复制到新的工作簿）后重新上传。"
)
ERR_SHEET_TOO_LONG = (
    "工作表超过上限 {limit:,} 行（读到第{last:,}行时已超过）。"
    "如果数据确实这么多，请拆分后分批导入；否则请删除数据下方多余的行后重新上传。"
)
ERR_SHEET_TOO_LARGE = (
    "工作表的数据范围有{rows:,}行×{cols:,}列，超过上限 {limit:,} 个单元格。"
    "请删除数据以外多余的行和列（或把数据复制到新的工作簿）后重新上传。"
)
ERR_ZIP_UNSUPPORTED = "文件使用了不支持的压缩方式或已加密，请用 Excel 打开后另存为 .xlsx（不要设置密码）再上传。"

MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024  # 1 GiB of XML is far beyond a county's sheet (600,000 rows: 330 MB)
MAX_RATIO = 200  # real xlsx compress ~10-30x; bombs compress thousands of times
MAX_MEMBERS = 10_000  # zip entries; a workbook has a dozen or so
TITLE_ROWS = 30  # rows allowed above the data (titles, the header): the tax reader looks for its header in 30

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_NOT_SHEET_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"{\\rtf", b"<?xml", b"<html", b"<!DOCTYPE")


class UploadError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file an .xls is stored in
# An OpenDocument zip starts with an uncompressed "mimetype" member naming its type.
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def sniff_kind(head: bytes, name: str = "") -> str:
    """'xlsx', 'xls', 'ods', 'csv' or raise UploadError, by content (the extension is not trusted)."""
    if not head:
        raise UploadError(ERR_EMPTY_FILE)
    if head.startswith(b"PK\x03\x04"):
        return "ods" if head[30 : 30 + len(_ODS_MIMETYPE)] == _ODS_MIMETYPE else "xlsx"
    if head.startswith(_OLE_MAGIC):
        # the header's byte-order mark and sector size: a real compound file, not the magic alone
        if head[28:30] != b"\xfe\xff" or head[30:32] not in (b"\x09\x00", b"\x0c\x00"):
            raise UploadError(ERR_CORRUPT)
        return "xls"
    if head.startswith(_NOT_SHEET_MAGIC):  # text-like enough to pass for a CSV, but a PDF, an image, an archive
        raise UploadError(ERR_NOT_SPREADSHEET)
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
    if kind in ("xlsx", "ods"):
        try:
            with zipfile.ZipFile(fileobj) as zf:
                names = set(zf.namelist())
                if kind == "xlsx" and ("[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names)):
                    raise UploadError(ERR_NOT_SPREADSHEET)
                if kind == "ods" and "content.xml" not in names:
                    raise UploadError(ERR_NOT_SPREADSHEET)
                unzipped = sum(info.file_size for info in zf.infolist())
                if unzipped > MAX_UNZIPPED_BYTES or (size and unzipped / size > MAX_RATIO and unzipped > 50 * 1024 * 1024):
                    raise UploadError(ERR_ZIP_BOMB)
        except zipfile.BadZipFile:
            raise UploadError(ERR_CORRUPT) from None
        finally:
            fileobj.seek(0)
    return kind


# --- The content guard -----------------------------------------------------------------------
_CHUNK = 4 << 20
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
# The common form of a cell, as Excel, WPS, LibreOffice and openpyxl write it: the address first.
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
_ADDRESS = re.compile(r"\$?([A-Z]{1,4})\$?([0-9]{1,8})")
_START_TAG = re.compile(rb"<[A-Za-z_]")
_ROOT = re.compile(rb'<([\w.-]+:)?worksheet[\s>]')
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s+ref="([^"]*)"')
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader


def _column_number(letters) -> int:
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


class _Extent:
    """Rows, cells and the address box of one worksheet, checked against the limits as it grows."""

    def __init__(self, limits: tuple[int, int, int]):
        self.max_rows, self.max_cols, self.max_cells = limits
        self.rows = self.cells = 0
        self.row_lo = self.col_lo = 1 << 62
        self.row_hi = self.col_hi = 0
        self.slow = False  # prefixed element names (<x:c>): every element read one by one
        self.row = self.col = 0  # where the slow scan is, as calamine counts address-less rows and cells
        self.box: bool | None = None  # True once cells were read exactly; later parts are searched for a cell outside
        self.outside: re.Pattern[bytes] | None = None
        self.outside_key: tuple | None = None

    def add(self, *, rows: int, cells: int, row_lo: int, row_hi: int, col_lo: int, col_hi: int) -> None:
        self.rows += rows
        self.cells += cells
        self.row_lo, self.row_hi = min(self.row_lo, row_lo), max(self.row_hi, row_hi)
        self.col_lo, self.col_hi = min(self.col_lo, col_lo), max(self.col_hi, col_hi)
        self.check()

    def check(self) -> None:
        height = self.row_hi - self.row_lo + 1 if self.row_hi else 0
        width = self.col_hi - self.col_lo + 1 if self.col_hi else 0
        if self.col_hi > self.max_cols:
            raise UploadError(ERR_SHEET_TOO_WIDE.format(cols=self.col_hi, limit=self.max_cols))
        if height > self.max_rows or self.rows > self.max_rows:
            raise UploadError(ERR_SHEET_TOO_LONG.format(last=max(self.row_hi, self.rows), limit=self.max_rows))
        if height * width > self.max_cells or self.cells > self.max_cells:
            raise UploadError(ERR_SHEET_TOO_LARGE.format(rows=height, cols=max(width, 1), limit=self.max_cells))


def _member_chunks(fileobj, info: zipfile.ZipInfo, budget: list[int]):
    """The bytes of one zip member as they really decompress, whatever its headers declare; the
    running total (``budget[0]``, bytes still allowed) is charged as they come."""
    if info.flag_bits & 0x1:
        raise UploadError(ERR_ZIP_UNSUPPORTED)
    fileobj.seek(info.header_offset)
    header = fileobj.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise UploadError(ERR_CORRUPT)
    fields = _LOCAL_HEADER.unpack(header)
    fileobj.seek(info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11])
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        decompress = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        decompress = zlib.decompressobj(-15)
    else:
        raise UploadError(ERR_ZIP_UNSUPPORTED)
    while left > 0:
        raw = fileobj.read(min(left, _CHUNK))
        if not raw:
            break
        left -= len(raw)
        while raw:
            if decompress is None:
                out, raw = raw, b""
            else:
                try:
                    out = decompress.decompress(raw, _CHUNK)
                except zlib.error:
                    raise UploadError(ERR_CORRUPT) from None
                raw = decompress.unconsumed_tail
            budget[0] -= len(out)
            if budget[0] < 0:
                raise UploadError(ERR_ZIP_BOMB)
            if out:
                yield out


def _scan_xml(chunks, sheet: _Extent | None) -> None:
    """DTD/ENTITY refused in any member; for a worksheet, its addresses and counts. Each chunk is
    scanned up to its last ``>`` (no mark or address spans a cut made just after a tag)."""
    carry = b""
    first = prolog = True
    for chunk in chunks:
        buf = carry + chunk if carry else chunk
        end = buf.rfind(b">") + 1
        if end == 0:  # no tag ends here (a long text or blank run): hold a little, never the whole run
            if len(buf) < 2 * _CHUNK:
                carry = buf
                continue
            end = len(buf) - 64  # longer than any address or mark, which then stays whole in the carry
        if prolog:  # a DTD can only come before the root element
            if buf.find(b"<!", 0, end) != -1 and any(buf.find(mark, 0, end) != -1 for mark in _DTD_MARKS):
                raise UploadError(ERR_DTD)
            prolog = not _START_TAG.search(buf, 0, end)
        if sheet is not None:
            if first:
                root = _ROOT.search(buf, 0, end)
                sheet.slow = bool(root and root.group(1))
                _declared(buf[:end], sheet)
                first = False
            (_scan_cells_slowly if sheet.slow else _scan_cells)(buf, end, sheet)
        carry = buf[end:]
    if carry and any(mark in carry for mark in _DTD_MARKS):
        raise UploadError(ERR_DTD)


def _declared(part: bytes, sheet: _Extent) -> None:
    """The ``<dimension ref>``: openpyxl pads every row to its width and calamine ignores it."""
    m = _DIMENSION.search(part)
    if not m:
        return
    found = [_ADDRESS.fullmatch(a) for a in m.group(1).decode("ascii", "replace").split(":")]
    ends = [e for e in found if e is not None]
    if len(ends) != len(found):
        return
    cols = [_column_number(e.group(1)) for e in ends]
    rows = [int(e.group(2)) for e in ends]
    probe = _Extent((sheet.max_rows, sheet.max_cols, sheet.max_cells))
    probe.add(rows=0, cells=0, row_lo=min(rows), row_hi=max(rows), col_lo=min(cols), col_hi=max(cols))


def _scan_cells(buf: bytes, end: int, sheet: _Extent) -> None:
    """One part of a worksheet, ``buf[:end]``. In the common form every row carries its number and
    every cell starts with its address: the rows' numbers give the height, and one regex search
    finds any cell outside the box read so far (a wider row, a cell whose row is not its row's, a
    cell without its address first), and only then is the part read exactly. A normal file costs a
    few C-speed passes and no Python work per cell."""
    rows = _ROW_REF.findall(buf, 0, end)
    row_tags = len(rows)
    cells = buf.count(b"<c", 0, end)  # every cell opening (<cols>, <cfRule> counted too: never fewer)
    if b"" in rows:  # a row without its number first
        _scan_cells_slowly(buf, end, sheet)
        return
    lines = list(map(int, rows))
    row_lo, row_hi = (min(lines), max(lines)) if lines else (1 << 62, 0)
    if sheet.box is not None:
        sheet.add(rows=row_tags, cells=cells, row_lo=row_lo, row_hi=row_hi, col_lo=sheet.col_lo, col_hi=sheet.col_hi)
        if not _outside(sheet).search(buf, 0, end):
            return
        sheet.rows -= row_tags
        sheet.cells -= cells
    if _ADDRESSLESS.search(buf, 0, end):
        # calamine places a cell without its address after the previous one: read this part the
        # slow way, one element at a time
        _scan_cells_slowly(buf, end, sheet)
        return
    refs = _CELL_REF.findall(buf, 0, end)
    if not refs:
        sheet.add(rows=row_tags, cells=cells, row_lo=row_lo, row_hi=row_hi, col_lo=1 << 62, col_hi=0)
        return
    letters, numbers = zip(*refs)
    cols = [_column_number(c) for c in set(letters)]
    lines = [int(n) for n in set(numbers)] + lines
    sheet.add(rows=row_tags, cells=cells, row_lo=min(lines), row_hi=max(lines), col_lo=min(cols), col_hi=max(cols))
    sheet.box = True


_ADDRESSLESS = re.compile(rb'<c(?! r="[A-Z])[\s/>]')
_ROW_REF = re.compile(rb'<row[\s/>](?:r="([0-9]+)")?')
_DIGITS, _LETTERS = b"0123456789", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _beyond(text: bytes, alphabet: bytes, *, lower: bool) -> bytes | None:
    """A regex for the strings over ``alphabet`` (no leading zero digit) that sort after ``text``
    (or before it, ``lower``), comparing length first: numeric order for row numbers, and column
    order for letters (A..Z, AA..)."""
    first = alphabet[1:] if alphabet == _DIGITS else alphabet
    def cls(chars: bytes) -> bytes:
        return b"[" + re.escape(chars) + b"]"

    alts = []
    n = len(text)
    for i, ch in enumerate(text):
        pool = (first if i == 0 else alphabet)
        at = pool.find(bytes([ch]))
        chars = pool[:at] if lower else pool[at + 1 :]
        if chars:
            alts.append(re.escape(text[:i]) + cls(chars) + b"[" + alphabet + b"]" + b"{%d}" % (n - i - 1))
    if lower:
        if n > 1:
            alts.append(cls(first) + b"[" + alphabet + b"]" + b"{0,%d}" % (n - 2))
    else:
        alts.append(cls(first) + b"[" + alphabet + b"]" + b"{%d,}" % n)
    if alphabet == _DIGITS:
        alts.append(b"0[0-9]*")  # leading zeros: not a form any writer uses
    return b"|".join(alts) if alts else None


def _outside(sheet: _Extent):
    """The compiled search for a cell outside the sheet's box (rows from its rows' numbers, columns
    from the cells read exactly so far), or without its address first.

    While even a cell at the last row with as many digits as the box's (999,999 for a box ending
    at row 600,000) keeps the sheet within the limits, the search only looks for a cell with more
    digits than that: a cheaper pattern that is just as safe. Past that, it looks for any cell
    outside the box's rows exactly."""
    bound = 10 ** len(str(sheet.row_hi)) - 1
    width = sheet.col_hi - sheet.col_lo + 1
    if bound <= sheet.max_rows and bound * width <= sheet.max_cells:
        key: tuple = ("digits", len(str(sheet.row_hi)), sheet.col_lo, sheet.col_hi)
    else:
        key = (sheet.row_lo, sheet.row_hi, sheet.col_lo, sheet.col_hi)
    if sheet.outside_key != key:
        if key[0] == "digits":
            row_bad = [b"[0-9]{%d,}" % (key[1] + 1), b"0[0-9]*"]
        else:
            row_bad = [b for b in (
                _beyond(str(sheet.row_hi).encode(), _DIGITS, lower=False),
                _beyond(str(sheet.row_lo).encode(), _DIGITS, lower=True),
            ) if b]
        col_bad = [b for b in (
            _beyond(_column_letters(sheet.col_hi), _LETTERS, lower=False),
            _beyond(_column_letters(sheet.col_lo), _LETTERS, lower=True),
        ) if b]
        pattern = (
            b'<c(?: r="(?:(?:' + b"|".join(col_bad) + b')[0-9]|[A-Z]+(?:' + b"|".join(row_bad) + b')")'
            + b'|(?! r="[A-Z])[\\s/>])'
        )
        sheet.outside, sheet.outside_key = re.compile(pattern), key
    return sheet.outside


def _column_letters(n: int) -> bytes:
    out = b""
    while n:
        n, r = divmod(n - 1, 26)
        out = bytes([65 + r]) + out
    return out


_ELEMENT = re.compile(rb'<(/?)(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>')
_R_ATTR = re.compile(rb'\sr="([^"]*)"')


def _scan_cells_slowly(buf: bytes, end: int, sheet: _Extent) -> None:
    """Rows and cells as calamine numbers them when addresses are missing: a row without ``r``
    follows the previous one, a cell without ``r`` follows the previous cell of its row."""
    rows = cells = 0
    row_lo = col_lo = 1 << 62
    row_hi = col_hi = 0
    for closing, name, attrs in _ELEMENT.findall(buf, 0, end):
        if closing:
            continue
        r = _R_ATTR.search(attrs)
        if name == b"row":
            rows += 1
            sheet.row = int(r.group(1)) if r and r.group(1).isdigit() and r.group(1).isascii() else sheet.row + 1
            sheet.col = 0
            continue
        cells += 1
        address = _ADDRESS.fullmatch(r.group(1).decode("ascii", "replace")) if r else None
        if address:
            sheet.col, line = _column_number(address.group(1)), int(address.group(2))
        else:
            sheet.col, line = sheet.col + 1, max(sheet.row, 1)
        row_lo, row_hi = min(row_lo, line), max(row_hi, line)
        col_lo, col_hi = min(col_lo, sheet.col), max(col_hi, sheet.col)
        if cells % 10_000 == 0:
            sheet.add(rows=rows, cells=cells, row_lo=row_lo, row_hi=row_hi, col_lo=col_lo, col_hi=col_hi)
            rows = cells = 0
    sheet.add(rows=rows, cells=cells, row_lo=row_lo, row_hi=row_hi, col_lo=col_lo, col_hi=col_hi)


def sheet_limits(max_rows: int | None = None) -> tuple[int, int, int]:
    """(rows, columns, cells) a worksheet may span: the data rows plus its title and header rows."""
    rows = (max_rows or settings.CANBAO_MAX_IMPORT_ROWS) + TITLE_ROWS
    return rows, settings.CANBAO_MAX_IMPORT_COLUMNS, settings.CANBAO_MAX_IMPORT_CELLS


def _count_ods(chunks, sheet: _Extent):
    """An ods's content.xml passed on as it decompresses, its row and cell elements counted against
    the limits (a mark cut by a chunk's end is counted in the next: the tail is kept)."""
    tail = b""
    for chunk in chunks:
        buf = tail + chunk
        rows, cells = buf.count(b"<table:table-row"), buf.count(b"<table:table-cell")
        tail = buf[-20:]
        sheet.rows += rows - tail.count(b"<table:table-row")
        sheet.cells += cells - tail.count(b"<table:table-cell")
        sheet.check()
        yield chunk


def check_workbook(fileobj, *, max_rows: int | None = None, ods: bool = False) -> None:
    """Refuse an xlsx (or ``ods``) that would make a reader allocate beyond the limits, before any
    reader opens it (see the module's docstring). Leaves a file object at position 0."""
    limits = sheet_limits(max_rows)
    size = _size(fileobj)
    budget = [min(MAX_UNZIPPED_BYTES, max(size * MAX_RATIO, 50 * 1024 * 1024))]  # check_upload's rule, on real bytes
    try:
        with zipfile.ZipFile(fileobj) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UploadError(ERR_ZIP_BOMB)
            for info in infos:
                name = info.filename
                chunks = _member_chunks(fileobj, info, budget)
                if name == "content.xml" and ods:
                    _scan_xml(_count_ods(chunks, _Extent(limits)), None)
                elif name.endswith((".xml", ".rels", ".vml")) or _WORKSHEET.fullmatch(name):
                    sheet = _Extent(limits) if _WORKSHEET.fullmatch(name) else None
                    _scan_xml(chunks, sheet)
                else:
                    for _ in chunks:
                        pass
    except zipfile.BadZipFile:
        raise UploadError(ERR_CORRUPT) from None
    finally:
        fileobj.seek(0)


def check_csv(data: bytes, *, max_rows: int | None = None) -> None:
    """Refuse a CSV of more rows than the limit, counting lines as bytes and stopping at the limit."""
    limit = sheet_limits(max_rows)[0]
    if data.count(b"\n") <= limit:
        return
    # Quoted cells may hold line breaks: count records the slow way only for a file this long.
    import csv

    text = io.StringIO(data.decode("utf-8-sig", errors="replace"))
    for n, _ in enumerate(csv.reader(text), start=1):
        if n > limit:
            raise UploadError(ERR_TOO_MANY_ROWS.format(limit=max_rows or settings.CANBAO_MAX_IMPORT_ROWS))


def check_sheet(source, kind: str, *, max_rows: int | None = None) -> None:
    """The guard every reader calls before handing ``source`` (a path or a binary file object) to
    calamine, openpyxl or csv."""
    if hasattr(source, "read"):
        at = source.tell()
        if kind != "csv" and sniff_kind(source.read(8192)) != kind:  # a stored file is not trusted either
            raise UploadError(ERR_NOT_SPREADSHEET)
        source.seek(at)
        if kind == "csv":
            at = source.tell()
            check_csv(source.read(), max_rows=max_rows)
            source.seek(at)
        elif kind in ("xlsx", "ods"):
            check_workbook(source, max_rows=max_rows, ods=kind == "ods")
        # an xls: its size was checked at the door, its extent is checked on what calamine reads
        return
    with open(source, "rb") as fh:
        check_sheet(fh, kind, max_rows=max_rows)


def _size(fileobj) -> int:
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


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


# Column widths in Excel's units (about one Latin character): an ID column shows all 18
# characters; the others fit their longest value (Chinese characters count double), within bounds.
ID_COLUMN_WIDTH = 21
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60


def display_width(value) -> int:
    """How wide ``value`` shows in a cell: wide (CJK, full-width) characters count two."""
    if value is None:
        return 0
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def write_rows(ws, header, rows, *, id_columns=(), footer=()):
    """Write a header, rows and ``footer`` rows (totals) through safe_cell — the one way every
    export writes a sheet: ID columns stored as text and wide enough for 18 characters, every
    column sized to its content, the header row frozen."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    widths = [display_width(h) for h in header]
    ws.append([safe_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F4")
    for row in (*rows, *footer):
        row = list(row)
        ws.append([safe_cell(v) for v in row])
        for i, v in enumerate(row):
            if i >= len(widths):
                widths.append(0)
            widths[i] = max(widths[i], display_width(v))
    for col in id_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "@"
    for i, w in enumerate(widths, 1):
        width = max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, w + 2))
        if i in id_columns:
            width = max(width, ID_COLUMN_WIDTH)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
