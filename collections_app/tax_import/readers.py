"""Read a tax-office payment export (缴费/入库明细) as offices really produce it.

Streaming readers (python-calamine for xlsx — about 8x faster than openpyxl read-only — with
openpyxl read-only kept as a fallback and for comparison; csv in UTF-8 or GB18030), header
detection below title rows, merged cells filled from their top-left cell, and pure normalisers
for each cell (amount, date, tier, year, channel, ID number) raising Chinese messages.
"""

from __future__ import annotations

import abc
import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import mul

from core import idcard
from core.spreadsheets import check_csv, check_sheet
from subsidies.calc import to_money

# --- Messages users see (tests import them) ---------------------------------------------------
ERR_NO_HEADER = (
    "没有找到表头：前{rows}行中没有同时包含“身份证号码（或公民身份号码、证件号码）”和“缴费金额（或实缴金额）”的行。"
    "请上传税务系统导出的缴费/入库明细。"
)
ERR_CORRUPT = "文件已损坏或不是有效的 Excel 文件，无法读取：{detail}"
ERR_NO_SHEET = "文件中没有工作表。"
ERR_TOO_MANY_ROWS = "文件超过 {limit} 行，请拆分后分批导入。"
ERR_AMOUNT_EMPTY = "缴费金额为空。"
ERR_AMOUNT = "缴费金额“{value}”不是有效金额。"
ERR_AMOUNT_NEGATIVE = "缴费金额“{value}”为负数，退费不通过本导入处理。"
ERR_DATE = "日期“{value}”无法识别，请写成 2024-10-05、2024/10/5 或 2024年10月5日。"
ERR_TIER = "缴费档次“{value}”无法识别，应为 1、2 或“一档”“二档”。"
ERR_YEAR = "待遇年度“{value}”无法识别。"
ERR_NO_YEAR = "无法确定待遇年度：文件中没有年度列，导入时也没有指定年度。"
ERR_TOO_LONG = "{column}内容过长（{length}个字符），已截断显示。"
ERR_VOUCHER_TOO_LONG = "税票号码过长（{length}个字符，最多{limit}个字符），请核对是否填错了列。"
ERR_VOUCHER_NUMERIC = (
    "税票号码在表格中被存成了数字（如 {shown}），超过15位的数字已丢失末几位，请把税票号码列设为文本后重新导出。"
)

HEADER_SCAN_ROWS = 30
MAX_TEXT = 200  # what we keep of any cell for messages and the problem-rows file
VOUCHER_MAX = 40  # Enrollment.tax_voucher (a test pins the two together)
NUMBER_DIGITS = 1e15  # Excel keeps 15 significant digits: a number this large has lost some

# --- Header names -------------------------------------------------------------------------------
# canonical field -> header texts seen in exports (after normalise_header)
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id_number": (
        "公民身份号码", "身份证号码", "身份证号", "证件号码", "证件号", "身份证件号码", "缴费人证件号码",
        "参保人身份证号码", "纳税人识别号", "缴费人识别号", "社会保障号码", "社会保障号",
    ),
    "name": ("姓名", "缴费人姓名", "参保人姓名", "缴费人名称", "纳税人名称", "缴费人", "参保人"),
    "amount": ("缴费金额", "实缴金额", "入库金额", "实缴金额元", "缴费额", "个人缴费金额", "金额", "实缴", "缴款金额", "实缴(退)金额"),
    "tier": ("缴费档次", "档次", "缴费标准档次", "参保档次"),
    "paid_on": ("缴费日期", "缴款日期", "缴费时间", "实缴日期", "缴款时间", "支付日期"),
    "treasury_on": ("入库日期", "入库时间", "开票日期"),
    "voucher": ("税票号码", "电子税票号", "电子税票号码", "税票号", "票证号码", "完税凭证号", "完税凭证号码", "凭证号码", "税票号码电子"),
    "channel": ("缴费渠道", "缴费方式", "缴款方式", "支付渠道", "缴费途径", "缴款渠道"),
    "place": ("参保地", "参保地村", "村", "村社区", "所属村", "所在村", "参保村", "村居", "所属村社区", "社区"),
    "township": ("乡镇", "乡镇街道", "所属乡镇", "街道", "乡镇名称"),
    "year": ("待遇年度", "缴费年度", "费款所属期", "所属期", "年度", "参保年度", "费款所属年度"),
}
_HEADER_LOOKUP = {text: key for key, texts in HEADER_SYNONYMS.items() for text in texts}
# Fallback when no exact synonym matches: keyword contained in the header.
_HEADER_CONTAINS = (
    ("id_number", ("身份证", "证件号码", "公民身份")),
    ("voucher", ("税票", "完税凭证")),
    ("treasury_on", ("入库日期", "入库时间")),
    ("paid_on", ("缴费日期", "缴款日期", "缴费时间")),
    ("amount", ("实缴金额", "缴费金额", "入库金额")),
    ("tier", ("档次",)),
    ("channel", ("渠道", "缴费方式")),
    ("year", ("所属期", "年度")),
)
REQUIRED = ("id_number", "amount")
FIELD_LABELS = {
    "id_number": "身份证号码", "name": "姓名", "amount": "缴费金额", "tier": "缴费档次", "paid_on": "缴费日期",
    "treasury_on": "入库日期", "voucher": "税票号码", "channel": "缴费渠道", "place": "参保地", "township": "乡镇",
    "year": "待遇年度",
}

_PARENS = re.compile(r"[（(][^（）()]*[）)]")
_HEADER_NOISE = re.compile(r"[\s\u3000*＊:：/、_\-]+")
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
TOTAL_MARKERS = ("合计", "总计", "小计", "共计")


def normalise_header(value) -> str:
    text = str(value or "").translate(_FULLWIDTH)
    text = _PARENS.sub("", text) or text
    return _HEADER_NOISE.sub("", text).lower()


def header_field(value) -> str | None:
    text = normalise_header(value)
    if not text:
        return None
    if text in _HEADER_LOOKUP:
        return _HEADER_LOOKUP[text]
    raw = _HEADER_NOISE.sub("", str(value or "").translate(_FULLWIDTH))
    if raw in _HEADER_LOOKUP:
        return _HEADER_LOOKUP[raw]
    if len(text) > 20:
        return None
    for key, words in _HEADER_CONTAINS:
        if any(w in text for w in words) and "应缴" not in text:
            return key
    return None


def map_header(cells) -> dict[str, int]:
    """Column index of each canonical field found in a row (first occurrence wins)."""
    columns: dict[str, int] = {}
    for idx, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        key = header_field(cell)
        if key and key not in columns:
            columns[key] = idx
    return columns


def is_header(columns: dict[str, int]) -> bool:
    return all(k in columns for k in REQUIRED)


# --- Cell normalisers (pure) ----------------------------------------------------------------------
class CellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, limit: int = MAX_TEXT) -> str:
    """A cell as display text (numbers without a trailing .0), capped in length. NUL characters
    (possible in a csv, refused by PostgreSQL) are dropped."""
    if type(value) is str:
        out = value.strip()
        if "\x00" in out:
            out = out.replace("\x00", "").strip()
        return out if len(out) <= limit else out[: limit - 1] + "…"
    if value is None:
        return ""
    if isinstance(value, float):
        value = int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, datetime):
        value = value.date() if not (value.hour or value.minute or value.second) else value
    if isinstance(value, date):
        return value.isoformat()
    out = str(value).strip().replace("\x00", "")
    return out if len(out) <= limit else out[: limit - 1] + "…"


_AMOUNT_NOISE = re.compile(r"[\s,，元圆¥￥rmbRMB]+")


def parse_amount(value) -> Decimal:
    if is_blank(value):
        raise CellError(ERR_AMOUNT_EMPTY)
    if isinstance(value, bool):
        raise CellError(ERR_AMOUNT.format(value=value))
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = to_money(repr(value) if isinstance(value, float) else value)
        except InvalidOperation:
            raise CellError(ERR_AMOUNT.format(value=text(value, 40))) from None
    else:
        raw = str(value).translate(_FULLWIDTH)
        cleaned = _AMOUNT_NOISE.sub("", raw)
        if not re.fullmatch(r"-?\d{1,12}(\.\d{1,4})?", cleaned):
            raise CellError(ERR_AMOUNT.format(value=text(value, 40)))
        amount = to_money(cleaned)
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        raise CellError(ERR_AMOUNT.format(value=text(value, 40)))
    if amount < 0:
        raise CellError(ERR_AMOUNT_NEGATIVE.format(value=text(value, 40)))
    return amount


EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")


def parse_date(value) -> date | None:
    """Excel dates, serial numbers and the text forms offices type; blank → None."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
            if 1 <= number < 2958466:
                return EXCEL_EPOCH + timedelta(days=int(number))
            if number.is_integer() and 19000101 <= number <= 21001231:
                value = str(int(number))
            else:
                raise ValueError
        raw = str(value).translate(_FULLWIDTH).strip()
        m = _DATE_TEXT.match(raw) or _DATE_COMPACT.match(raw)
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (ValueError, OverflowError):
        raise CellError(ERR_DATE.format(value=text(value, 40))) from None


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def parse_tier(value) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 1 <= value <= 9:
            return int(value)
        raise CellError(ERR_TIER.format(value=text(value, 40)))
    raw = str(value).translate(_FULLWIDTH).strip()
    m = re.fullmatch(r"第?\s*([1-9一二两三四五])\s*(档|档次)?(\s*[（(].*[)）])?", raw)
    if not m:
        raise CellError(ERR_TIER.format(value=text(value, 40)))
    ch = m.group(1)
    return int(ch) if ch.isdigit() else _CN_DIGITS[ch]


def parse_year(value) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.year
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 2000 <= value <= 2100:
            return int(value)
        raise CellError(ERR_YEAR.format(value=text(value, 40)))
    m = re.match(r"^\s*(20\d\d)", str(value).translate(_FULLWIDTH))
    if not m:
        raise CellError(ERR_YEAR.format(value=text(value, 40)))
    return int(m.group(1))


ONLINE_WORDS = ("微信", "支付宝", "网上", "线上", "手机", "app", "掌上", "电子税务局", "自助", "自缴", "个人缴", "云闪付", "小程序", "公众号", "网银", "互联网", "扫码", "银行代扣", "银行卡")
COLLECTOR_WORDS = ("现金", "代征", "代收", "代缴", "协办", "批量", "集中", "pos", "刷卡", "村", "单位", "申报", "柜台", "窗口")


_COLLECTOR_RE = re.compile("|".join(map(re.escape, COLLECTOR_WORDS)))
_ONLINE_RE = re.compile("|".join(map(re.escape, ONLINE_WORDS)))
_CHANNEL_MEMO: dict[str, str] = {}


def channel_kind(value) -> str:
    """'online' (the resident paid by themselves), 'collector' (cash/declared by the village) or ''."""
    raw = str(value or "")
    kind = _CHANNEL_MEMO.get(raw)
    if kind is None:
        low = raw.translate(_FULLWIDTH).lower()
        kind = "collector" if _COLLECTOR_RE.search(low) else "online" if _ONLINE_RE.search(low) else ""
        if len(_CHANNEL_MEMO) < 1000:
            _CHANNEL_MEMO[raw] = kind
    return kind


def normalise_id(value) -> str:
    """Canonical ID text; a number cell is rejected (Excel kept only 15 significant digits)."""
    if type(value) is str and len(value) == 18 and value[:17].isdigit() and value.isascii():
        number = value.upper()
        if _fast_valid(number):
            return number
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise idcard.IdNumberError(idcard.ERR_NUMERIC_CELL)
    return idcard.parse(value).number


_TODAY = date.today()
_W_AREA, _W_BIRTH, _W_SEQ = idcard.WEIGHTS[:6], idcard.WEIGHTS[6:14], idcard.WEIGHTS[14:17]
_SEQ_SUM = {f"{n:03d}": sum(map(mul, map(int, f"{n:03d}"), _W_SEQ)) for n in range(1000)}
_AREA_SUM: dict[str, int | None] = {}
_BIRTH_SUM: dict[str, int | None] = {}


def _fast_valid(number: str) -> bool:
    """The common case of idcard.parse without its normalising (anything else goes the long way).
    Area and birth-date parts repeat across a county, so their checks and weighted sums are memoised."""
    last = number[17]
    if not (last.isdigit() or last == "X"):
        return False
    area = number[:6]
    a = _AREA_SUM.get(area, -1)
    if a == -1:
        a = sum(map(mul, map(int, area), _W_AREA)) if 11 <= int(area[:2]) <= 82 and area[2:] != "0000" else None
        if len(_AREA_SUM) < 100_000:
            _AREA_SUM[area] = a
    if a is None:
        return False
    birth = number[6:14]
    b = _BIRTH_SUM.get(birth, -1)
    if b == -1:
        try:
            born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
            b = sum(map(mul, map(int, birth), _W_BIRTH)) if 1900 <= born.year and born <= _TODAY else None
        except ValueError:
            b = None
        if len(_BIRTH_SUM) < 100_000:
            _BIRTH_SUM[birth] = b
    if b is None:
        return False
    return idcard.CHECK_CHARS[(a + b + _SEQ_SUM[number[14:17]]) % 11] == last


_VOUCHER_NOISE = re.compile(r"[\s\x00]+")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)


def voucher_text(value) -> str:
    """The tax voucher as text. Raises CellError for a voucher that cannot be stored (longer than
    ``VOUCHER_MAX``) or that Excel stored as a number of 16 digits or more (digits lost)."""
    if type(value) is str and value.isalnum() and value.isascii():
        if len(value) <= VOUCHER_MAX:
            return value
        raise CellError(ERR_VOUCHER_TOO_LONG.format(length=len(value), limit=VOUCHER_MAX))
    if is_blank(value):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= NUMBER_DIGITS:
            raise CellError(ERR_VOUCHER_NUMERIC.format(shown=shown(value)))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    out = _VOUCHER_NOISE.sub("", str(value).translate(_FULLWIDTH))
    if len(out) > VOUCHER_MAX:
        raise CellError(ERR_VOUCHER_TOO_LONG.format(length=len(out), limit=VOUCHER_MAX))
    if _SCIENTIFIC.match(out):  # a csv saved from Excel writes such numbers as 3.41101E+15
        raise CellError(ERR_VOUCHER_NUMERIC.format(shown=out))
    return out


# --- One parsed row -----------------------------------------------------------------------------
class FilingRow:
    """One data row, normalised. ``raw_*`` keep the original cells for messages (see ``shown``).

    Name, place, township and the raw date are only ever shown (problem rows, township hints),
    so they are read from the row's cells when asked for, not for each of a county's rows."""

    __slots__ = (
        "row_number", "id_number", "amount", "tier", "paid_on", "treasury_on", "voucher", "channel",
        "online", "year", "raw_id", "raw_amount", "errors", "_cells", "_parser",
    )

    def __init__(self, row_number: int, cells, parser: RowParser):
        self.row_number = row_number
        self._cells = cells
        self._parser = parser
        self.id_number = ""
        self.amount = None
        self.tier = None
        self.paid_on = None
        self.treasury_on = None
        self.year = None
        self.errors = None

    def _text(self, index, limit: int) -> str:
        return text(self._cells[index], limit) if index is not None else ""

    @property
    def name(self) -> str:
        return self._text(self._parser.i_name, 50)

    @property
    def place(self) -> str:
        return self._text(self._parser.i_place, 100)

    @property
    def township(self) -> str:
        return self._text(self._parser.i_township, 50)

    @property
    def raw_date(self):
        i, j = self._parser.i_paid, self._parser.i_treasury
        paid = self._cells[i] if i is not None else None
        treasury = self._cells[j] if j is not None else None
        return paid if not is_blank(paid) else treasury

    @property
    def error(self) -> str:
        return "；".join(self.errors or ())


def shown(value, limit: int = 40) -> str:
    """A raw cell as the clerk typed it (an ID stored as a number shows as Excel shows it)."""
    if isinstance(value, float) and abs(value) >= 1e11:
        return f"{value:.6G}"
    return text(value, limit)


class _Memo(dict):
    """Per-filing memo of a normaliser: amounts, dates, tiers and years repeat on every row.
    ``memo[value]`` gives (normalised, None) or (None, message). Booleans are never stored
    (True == 1 as a dict key)."""

    def __init__(self, func, size: int = 20000):
        super().__init__()
        self.func, self.size = func, size

    def compute(self, value):
        try:
            return (self.func(value), None)
        except CellError as exc:
            return (None, exc.message)

    def __missing__(self, value):
        hit = self.compute(value)
        if len(self) < self.size and type(value) is not bool:
            self[value] = hit
        return hit

    def __call__(self, value):
        if type(value) is bool:
            return self.compute(value)
        try:
            return self[value]
        except TypeError:  # an unhashable cell
            return self.compute(value)


class RowParser:
    """Normalises data rows of one filing. Problems are collected in ``errors`` (never raised).

    Hot: called for each of up to a county's 600,000 rows, so the column positions are plain
    attributes, channels are memoised by cell and the memos are read by subscription."""

    def __init__(self, columns: dict[str, int], *, default_year: int | None):
        self.columns = columns
        self.default_year = default_year
        self.width = max(columns.values()) + 1
        self.idx = {key: columns.get(key) for key in FIELD_LABELS}
        ix = self.idx
        self.i_id, self.i_name, self.i_amount, self.i_voucher = ix["id_number"], ix["name"], ix["amount"], ix["voucher"]
        self.i_channel, self.i_place, self.i_township = ix["channel"], ix["place"], ix["township"]
        self.i_paid, self.i_treasury, self.i_tier, self.i_year = ix["paid_on"], ix["treasury_on"], ix["tier"], ix["year"]
        self.amount = _Memo(parse_amount)
        self.date = _Memo(parse_date)
        self.tier = _Memo(parse_tier)
        self.year = _Memo(parse_year)
        self.channels: dict[str, tuple[str, bool]] = {}  # cell → (text, online)

    def __call__(self, row_number: int, cells) -> FilingRow:
        if len(cells) < self.width:
            cells = list(cells) + [None] * (self.width - len(cells))
        row = FilingRow(row_number, cells, self)
        errors = []
        raw_id = cells[self.i_id]
        row.raw_id = raw_id
        amount_cell = cells[self.i_amount]
        row.raw_amount = amount_cell
        i = self.i_voucher
        row.voucher = ""
        voucher_error = None
        if i is not None:
            try:
                row.voucher = voucher_text(cells[i])
            except CellError as exc:
                voucher_error = exc.message
                row.voucher = shown(cells[i], 60)  # for the problem row only
        i = self.i_channel
        if i is None:
            row.channel, row.online = "", False
        else:
            v = cells[i]
            known = self.channels.get(v) if type(v) is str else None
            if known is None:
                channel = text(v, 40)
                known = (channel, channel_kind(channel) == "online")
                if type(v) is str and len(self.channels) < 1000:
                    self.channels[v] = known
            row.channel, row.online = known
        i, j = self.i_paid, self.i_treasury
        paid_cell = cells[i] if i is not None else None
        treasury_cell = cells[j] if j is not None else None
        try:
            row.id_number = normalise_id(raw_id)
        except idcard.IdNumberError as exc:
            errors.append(exc.message)
        # The memos by subscription (their __missing__ computes), booleans through their call.
        amounts, dates = self.amount, self.date
        row.amount, err = amounts[amount_cell] if type(amount_cell) is not bool else amounts(amount_cell)
        if err:
            errors.append(err)
        if paid_cell is not None:
            row.paid_on, err = dates[paid_cell] if type(paid_cell) is not bool else dates(paid_cell)
            if err:
                errors.append(err)
        if treasury_cell is not None:
            row.treasury_on, err = dates[treasury_cell] if type(treasury_cell) is not bool else dates(treasury_cell)
            if err:
                errors.append(err)
        i = self.i_tier
        if i is not None:
            row.tier, err = self.tier(cells[i])
            if err:
                errors.append(err)
        i = self.i_year
        year = None
        if i is not None:
            year, err = self.year(cells[i])
            if err:
                errors.append(err)
        row.year = year or self.default_year
        if row.year is None and not any(m.startswith("待遇年度") for m in errors):
            errors.append(ERR_NO_YEAR)
        if voucher_error:
            errors.append(voucher_error)
        row.errors = errors or None
        return row


def parse_row(row_number: int, cells, columns: dict[str, int], *, default_year: int | None) -> FilingRow:
    return RowParser(columns, default_year=default_year)(row_number, cells)


def is_totals_row(cells, columns) -> bool:
    """A 合计/总计 line: a marker word in a text cell and no usable ID."""
    id_idx = columns.get("id_number")
    id_cell = cells[id_idx] if id_idx is not None and id_idx < len(cells) else None
    if isinstance(id_cell, str) and len(id_cell.strip()) >= 15 and id_cell.strip()[:6].isdigit():
        return False
    for cell in cells[:8]:
        if isinstance(cell, str) and any(m in cell.replace(" ", "") for m in TOTAL_MARKERS):
            return True
    return False


# --- Sheet sources ------------------------------------------------------------------------------
class ReaderError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Sheet(abc.ABC):
    """Rows of the first worksheet as lists of cell values, numbered like Excel (1-based). Every
    source passes the shared guard (``core.spreadsheets.check_sheet``: extent, row and cell
    counts, real decompressed size, no DTD) before its reader sees a byte; the guard raises
    ``UploadError`` with a Chinese message."""

    total_rows: int = 0
    size: int = 0  # bytes of the file, known before its rows are read

    @abc.abstractmethod
    def rows(self):
        """Yield (row number, [cell values]) for every row of the sheet."""

    def close(self):
        pass


class CalamineSheet(Sheet):
    """The first sheet through python-calamine, guarded, opened and loaded whole on first use
    (``rows``, ``total_rows``). The guard's scan and calamine's load both let other Python threads
    run, which the importer uses to read the county's roster meanwhile (see tax_import.roster):
    doing both here, not at construction, keeps the scan off the import's critical path."""

    def __init__(self, source, *, max_rows: int | None = None, checked: bool = False):
        self.size = _size_of(source)
        self._source, self._max_rows, self._checked = source, max_rows, checked
        self._wb = self._sheet = None

    def _open(self):
        import python_calamine

        source = self._source
        if not self._checked:
            check_sheet(source, "xlsx", max_rows=self._max_rows)
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
    def total_rows(self) -> int:
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
    """openpyxl read-only: streams but does not know merged cells. Kept as a fallback and for the bench."""

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
    def __init__(self, source, *, max_rows: int | None = None, checked: bool = False):
        data = source.read() if hasattr(source, "read") else open(source, "rb").read()  # noqa: SIM115
        self.size = len(data)
        if not checked:
            check_csv(data, max_rows=max_rows)
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                self._text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ReaderError(ERR_CORRUPT.format(detail="无法识别的文字编码"))
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
    """The first sheet of ``source`` (a path or a binary file object), guarded (see ``Sheet``);
    ``max_rows`` data rows (default CANBAO_MAX_IMPORT_ROWS) bound the sheet's extent. ``checked``:
    the caller knows this very file passed the guard (the tax import's stored upload, by digest)."""
    if kind == "csv":
        return CsvSheet(source, max_rows=max_rows, checked=checked)
    if engine == "openpyxl":
        return OpenpyxlSheet(source, max_rows=max_rows, checked=checked)
    return CalamineSheet(source, max_rows=max_rows, checked=checked)


# --- The filing: header found, data rows parsed ----------------------------------------------------
@dataclass
class Filing:
    columns: dict[str, int]
    header_row: int
    total_rows: int
    blank_rows: int = 0
    totals_rows: int = 0


def read_filing(sheet: Sheet, *, default_year: int | None, max_rows: int | None = None):
    """(Filing, iterator of FilingRow). Raises ReaderError when no header is found."""
    it = sheet.rows()
    scanned = 0
    columns = None
    header_row = 0
    for r, cells in it:
        scanned += 1
        cols = map_header(cells)
        if is_header(cols):
            columns, header_row = cols, r
            break
        if scanned >= HEADER_SCAN_ROWS:
            break
    if columns is None:
        raise ReaderError(ERR_NO_HEADER.format(rows=HEADER_SCAN_ROWS))
    filing = Filing(columns=columns, header_row=header_row, total_rows=max(sheet.total_rows - header_row, 0))

    id_idx = columns["id_number"]
    parser = RowParser(columns, default_year=default_year)

    def data_rows():
        count = 0
        for r, cells in it:
            id_cell = cells[id_idx] if id_idx < len(cells) else None
            if not (type(id_cell) is str and id_cell[:1].isdigit()):  # the common case skips these checks
                if all(is_blank(c) for c in cells):
                    filing.blank_rows += 1
                    continue
                if is_totals_row(cells, columns):
                    filing.totals_rows += 1
                    continue
                # a repeated header line (exports sometimes repeat it per page)
                if isinstance(id_cell, str) and header_field(id_cell) == "id_number" and is_header(map_header(cells)):
                    filing.blank_rows += 1
                    continue
            count += 1
            if max_rows and count > max_rows:
                raise ReaderError(ERR_TOO_MANY_ROWS.format(limit=max_rows))
            yield parser(r, cells)

    return filing, data_rows()
