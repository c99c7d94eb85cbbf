"""One spreadsheet reader and one header finder for every import (roster, identity lists, tax
filings, declaration answers).

- ``open_sheet``: the first sheet of an xlsx, xls or ods (python-calamine; openpyxl read-only kept
  for the bench) or a csv (UTF-8, GBK/GB18030), as rows of raw cell values numbered like Excel.
  Every source passes the shared guard (``core.spreadsheets.check_sheet``) before its reader sees
  a byte. Cells covered by a merged range take the value of its top-left cell.
- ``open_upload`` / ``read_rows``: the same after the door check (``check_upload``) of an upload.
- ``Columns`` and ``find_header``: an importer declares its columns (canonical key → the header
  texts offices write) and which are required; the header row is looked for within the first
  ``TITLE_ROWS`` rows, below title rows, blank rows and merged title cells.
- ``data_rows``: the rows below the header without blank, totals (合计/总计/小计) or repeated
  header lines.

Cells stay raw here (numbers as float, dates as datetime): ``core.cells`` normalises them, so an
ID stored as a number is still seen to be one.
"""

from __future__ import annotations

import abc
import csv
import io
import os
import re
from dataclasses import dataclass, field

from django.conf import settings

from core.cells import FULLWIDTH, is_blank, is_totals_row
from core.spreadsheets import (
    ERR_CORRUPT as ERR_UPLOAD_CORRUPT,
)
from core.spreadsheets import (
    ERR_CSV_ENCODING,
    ERR_SHEET_TOO_LARGE,
    ERR_SHEET_TOO_LONG,
    ERR_TOO_MANY_ROWS,
    TITLE_ROWS,
    UploadError,
    check_csv,
    check_sheet,
    check_upload,
    sheet_limits,
)

ERR_CORRUPT = "文件已损坏或不是有效的 Excel 文件，无法读取：{detail}"
ERR_NO_SHEET = "文件中没有工作表。"
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 reads GBK and GB2312 files too


class ReaderError(UploadError):
    """A file that passed the guard but cannot be read (Chinese message)."""


# --- Sheet sources ------------------------------------------------------------------------------
class Sheet(abc.ABC):
    """Rows of the first worksheet as lists of cell values, numbered like Excel (1-based). The guard
    raises ``UploadError`` with a Chinese message."""

    total_rows: int = 0
    size: int = 0  # bytes of the file, known before its rows are read

    @abc.abstractmethod
    def rows(self):
        """Yield (row number, [cell values]) for every row of the sheet."""

    def close(self):
        pass


class CalamineSheet(Sheet):
    """The first sheet of an xlsx, xls or ods through python-calamine, guarded, opened and loaded
    whole on first use (``rows``, ``total_rows``). The guard's scan and calamine's load both let
    other Python threads run, which the tax import uses to read the county's roster meanwhile:
    doing both here, not at construction, keeps the scan off the import's critical path."""

    def __init__(self, source, *, kind: str = "xlsx", max_rows: int | None = None, checked: bool = False):
        self.size = _size_of(source)
        self._source, self._kind, self._max_rows, self._checked = source, kind, max_rows, checked
        self._wb = self._sheet = None

    def _open(self):
        import python_calamine

        source = self._source
        if not self._checked:
            check_sheet(source, self._kind, max_rows=self._max_rows)
        try:
            if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
                self._wb = python_calamine.CalamineWorkbook.from_path(str(source))
            else:
                self._wb = python_calamine.CalamineWorkbook.from_filelike(source)
        except Exception as exc:  # calamine raises its own error types for broken zips/XML
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None
        if not self._wb.sheet_names:
            raise ReaderError(ERR_NO_SHEET)

    def _load(self):
        if self._sheet is not None:
            return
        if self._wb is None:
            self._open()
        try:
            self._sheet = self._wb.get_sheet_by_index(0)
        except Exception as exc:  # noqa: BLE001 - broken sheet XML
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None
        self._total_rows = self._sheet.height or 0
        if self._kind != "xlsx":
            # xls and ods have no cheap scan before the load (see check_sheet): their extent is
            # checked on what calamine read, before any row is handed on
            max_rows, _, max_cells = sheet_limits(self._max_rows)
            width = self._sheet.width or 0
            if self._total_rows > max_rows:
                raise UploadError(ERR_SHEET_TOO_LONG.format(last=self._total_rows, limit=max_rows))
            if self._total_rows * width > max_cells:
                raise UploadError(ERR_SHEET_TOO_LARGE.format(rows=self._total_rows, cols=width, limit=max_cells))
        start = self._sheet.start or (0, 0)
        self._row0, self._col0 = start
        # Cells covered by a merged range take the value of its top-left cell.
        self._merged = []
        try:
            ranges = self._sheet.merged_cell_ranges or []
        except Exception:  # noqa: BLE001 - older files without merge info
            ranges = []
        for (r1, c1), (r2, c2) in ranges:
            if (r2 - r1 + 1) * (c2 - c1 + 1) <= 100_000:
                self._merged.append((r1, c1, r2, c2))

    @property
    def total_rows(self) -> int:  # type: ignore[override]  # loaded on first use
        self._load()
        return self._total_rows

    def rows(self):
        self._load()
        merged_by_row: dict[int, list] = {}
        for r1, c1, r2, c2 in self._merged:
            for r in range(r1, r2 + 1):
                merged_by_row.setdefault(r, []).append((r1, c1, c2))
        anchors: dict[tuple[int, int], object] = {}
        try:
            for i, cells in enumerate(self._sheet.iter_rows()):
                r = self._row0 + i
                if self._col0:
                    cells = [""] * self._col0 + list(cells)
                if r in merged_by_row:
                    cells = list(cells)
                    for r1, c1, c2 in merged_by_row[r]:
                        if r == r1:
                            if c1 < len(cells):
                                anchors[(r1, c1)] = cells[c1]
                        value = anchors.get((r1, c1), "")
                        for c in range(c1, c2 + 1):
                            if c < len(cells) and (c != c1 or r != r1):
                                cells[c] = value
                yield r + 1, cells
        except Exception as exc:
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None

    def close(self):
        if self._wb is None:
            return
        try:
            self._wb.close()
        except Exception:  # noqa: BLE001
            pass


class OpenpyxlSheet(Sheet):
    """openpyxl read-only (xlsx only): streams but does not know merged cells. Kept as a fallback
    and for the bench."""

    def __init__(self, source, *, max_rows: int | None = None, checked: bool = False):
        import openpyxl

        if not checked:
            check_sheet(source, "xlsx", max_rows=max_rows)
        try:
            self._wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
            self._ws = self._wb.worksheets[0]
        except IndexError:
            raise ReaderError(ERR_NO_SHEET) from None
        except Exception as exc:  # noqa: BLE001
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None
        self.total_rows = self._ws.max_row or 0

    def rows(self):
        try:
            for r, cells in enumerate(self._ws.iter_rows(values_only=True), start=1):
                yield r, list(cells)
        except Exception as exc:  # noqa: BLE001
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None

    def close(self):
        self._wb.close()


class CsvSheet(Sheet):
    """A csv in UTF-8 (with or without BOM) or GB18030 (which reads GBK), cells as str."""

    def __init__(self, source, *, max_rows: int | None = None, checked: bool = False):
        if hasattr(source, "read"):
            data = source.read()
        else:
            with open(source, "rb") as fh:
                data = fh.read()
        self.size = len(data)
        if not checked:
            check_csv(data, max_rows=max_rows)
        for encoding in CSV_ENCODINGS:
            try:
                self._text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ReaderError(ERR_CSV_ENCODING)
        self.total_rows = self._text.count("\n") + 1

    def rows(self):
        csv.field_size_limit(10 * 1024 * 1024)
        try:
            for r, cells in enumerate(csv.reader(io.StringIO(self._text)), start=1):
                yield r, cells
        except csv.Error as exc:
            raise ReaderError(ERR_CORRUPT.format(detail=str(exc)[:200])) from None


def _size_of(source) -> int:
    try:
        if hasattr(source, "seek") and hasattr(source, "tell"):
            at = source.tell()
            size = source.seek(0, io.SEEK_END)
            source.seek(at)
            return size
        return os.path.getsize(source)
    except (OSError, TypeError, ValueError):
        return 0


def open_sheet(
    source, kind: str = "xlsx", engine: str = "calamine", *, max_rows: int | None = None, checked: bool = False
) -> Sheet:
    """The first sheet of ``source`` (a path or a binary file object) of ``kind`` (xlsx, xls, ods,
    csv), guarded; ``max_rows`` data rows (default CANBAO_MAX_IMPORT_ROWS) bound the sheet's
    extent. ``checked``: the caller knows this very file passed the guard (the tax import's stored
    upload, by digest)."""
    if kind == "csv":
        return CsvSheet(source, max_rows=max_rows, checked=checked)
    if engine == "openpyxl" and kind == "xlsx":
        return OpenpyxlSheet(source, max_rows=max_rows, checked=checked)
    return CalamineSheet(source, kind=kind, max_rows=max_rows, checked=checked)


def open_upload(fileobj, *, name: str = "", max_rows: int | None = None) -> Sheet:
    """An uploaded file's first sheet: the door check (``check_upload``: size, real content, which
    kind), then the reader for that kind. Reads the upload into memory (it is within the size limit)."""
    kind = check_upload(fileobj, name=name)
    return open_sheet(io.BytesIO(fileobj.read()), kind, max_rows=max_rows)


def read_rows(fileobj, *, name: str = "", max_rows: int | None = None, keep_lines: bool = False) -> list[list]:
    """Every non-blank row of an upload's first sheet, as lists of raw cell values. More than
    ``max_rows`` data rows (default CANBAO_MAX_IMPORT_ROWS) is refused, never silently cut.
    ``keep_lines``: blank rows are kept as ``[]`` (trailing ones dropped), so ``rows[i]`` is the
    sheet's row ``i + 1`` and messages can name the row a clerk sees."""
    limit = max_rows or settings.CANBAO_MAX_IMPORT_ROWS
    sheet = open_upload(fileobj, name=name, max_rows=limit)
    rows: list[list] = []
    kept = 0
    try:
        for line, cells in sheet.rows():
            if any(c not in (None, "") for c in cells):
                if keep_lines:
                    rows.extend([] for _ in range(line - 1 - len(rows)))
                rows.append(list(cells))  # numbers come as float: an ID stored as a number stays detectable
                kept += 1
                if kept > limit + TITLE_ROWS:  # the data rows are counted exactly below the header (data_rows)
                    raise UploadError(ERR_TOO_MANY_ROWS.format(limit=limit))
    except ReaderError:
        raise UploadError(ERR_UPLOAD_CORRUPT) from None
    finally:
        sheet.close()
    return rows


# --- Header --------------------------------------------------------------------------------------
_PARENS = re.compile(r"[（(][^（）()]*[）)]")
_HEADER_NOISE = re.compile(r"[\s\u3000*＊:：/、_\-]+")


def normalise_header(value) -> str:
    """A header cell without full-width forms, a parenthesised unit ("金额（元）"), spaces, stars
    or punctuation, lower-cased."""
    text = str(value or "").translate(FULLWIDTH)
    text = _PARENS.sub("", text) or text
    return _HEADER_NOISE.sub("", text).lower()


@dataclass(frozen=True)
class Columns:
    """What an importer reads: canonical key → the header texts offices write (compared after
    ``normalise_header``), the keys a header must have, and optionally keywords a header may
    contain when no text matches exactly (the tax exports' many wordings)."""

    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    contains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    id_key: str | None = "id_number"  # the ID column: a row with an ID is never a totals row
    _lookup: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lookup = {normalise_header(t): key for key, texts in self.aliases.items() for t in texts}
        lookup |= {_HEADER_NOISE.sub("", t.translate(FULLWIDTH)): key for key, texts in self.aliases.items() for t in texts}
        object.__setattr__(self, "_lookup", lookup)

    def field_of(self, value) -> str | None:
        """The key a header cell names, or None."""
        text = normalise_header(value)
        if not text:
            return None
        if text in self._lookup:
            return self._lookup[text]
        raw = _HEADER_NOISE.sub("", str(value or "").translate(FULLWIDTH))  # "实缴(退)金额": parentheses kept
        if raw in self._lookup:
            return self._lookup[raw]
        if len(text) > 20:  # a title or a note, not a header
            return None
        for key, words in self.contains:
            if any(w in text for w in words) and "应缴" not in text:
                return key
        return None

    def map(self, cells) -> dict[str, int]:
        """Column index of each key found in a row (first occurrence wins)."""
        found: dict[str, int] = {}
        for idx, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            key = self.field_of(cell)
            if key and key not in found:
                found[key] = idx
        return found

    def is_header(self, found: dict[str, int]) -> bool:
        return all(k in found for k in self.required)


@dataclass
class Header:
    line: int  # the header's row number in the sheet (1-based, as Excel numbers it)
    columns: dict[str, int]  # key → column index
    cells: list


def find_header(rows, columns: Columns, *, scan: int = TITLE_ROWS) -> Header | None:
    """The first row, within the first ``scan`` rows of ``rows`` ((row number, cells) pairs, an
    iterator left just after the header), that names every required column; None if there is none."""
    for n, (line, cells) in enumerate(rows, start=1):
        found = columns.map(cells)
        if columns.is_header(found):
            return Header(line=line, columns=found, cells=list(cells))
        if n >= scan:
            break
    return None


def data_rows(rows, header: Header, columns: Columns, *, max_rows: int | None = None):
    """(row number, cells) of the rows below ``header`` that hold data: blank rows, totals rows and
    the header repeated (exports repeat it per page) are left out. More than ``max_rows`` of them
    (default CANBAO_MAX_IMPORT_ROWS) is refused, never cut: title rows above the header do not count."""
    id_index = header.columns.get(columns.id_key) if columns.id_key else None
    limit = max_rows or settings.CANBAO_MAX_IMPORT_ROWS
    n = 0
    for line, cells in rows:
        if all(is_blank(c) for c in cells):
            continue
        if is_totals_row(cells, id_index):
            continue
        if columns.is_header(columns.map(cells)):
            continue
        n += 1
        if n > limit:
            raise UploadError(ERR_TOO_MANY_ROWS.format(limit=limit))
        yield line, cells
