"""Read a tax-office payment export (缴费/入库明细) as offices really produce it.

The sheet comes from the one reader (``core.intake``: python-calamine for xlsx, xls and ods —
about 8x faster than openpyxl read-only — csv in UTF-8 or GB18030), its header from the one header
finder over the columns declared here, and the cells through the one normaliser (``core.cells``:
amount, date, ID number, text). What is the tax filing's own: its columns, tier, year, channel and
voucher cells, and a row parser that memoises what repeats across a county's rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from core import idcard
from core.cells import (
    FULLWIDTH,
    CellError,
    is_blank,
    is_totals_row,
    normalise_id,
    parse_amount,
    parse_date,
    shown,
    text,
)
from core.intake import TITLE_ROWS, Columns, ReaderError, Sheet, find_header
from core.intake import open_sheet as open_sheet  # the tax import opens its stored file through here

# --- Messages users see (tests import them) ---------------------------------------------------
ERR_NO_HEADER = (
    "没有找到表头：前{rows}行中没有同时包含“身份证号码（或公民身份号码、证件号码）”和“缴费金额（或实缴金额）”的行。"
    "请上传税务系统导出的缴费/入库明细。"
)
ERR_TOO_MANY_ROWS = "文件超过 {limit} 行，请拆分后分批导入。"
ERR_TIER = "缴费档次“{value}”无法识别，应为 1、2 或“一档”“二档”。"
ERR_YEAR = "待遇年度“{value}”无法识别。"
ERR_NO_YEAR = "无法确定待遇年度：文件中没有年度列，导入时也没有指定年度。"
ERR_TOO_LONG = "{column}内容过长（{length}个字符），已截断显示。"
ERR_VOUCHER_TOO_LONG = "税票号码过长（{length}个字符，最多{limit}个字符），请核对是否填错了列。"
ERR_VOUCHER_NUMERIC = (
    "税票号码在表格中被存成了数字（如 {shown}），超过15位的数字已丢失末几位，请把税票号码列设为文本后重新导出。"
)

HEADER_SCAN_ROWS = TITLE_ROWS
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

COLUMNS = Columns(HEADER_SYNONYMS, required=REQUIRED, contains=_HEADER_CONTAINS)
header_field = COLUMNS.field_of
map_header = COLUMNS.map
is_header = COLUMNS.is_header


# --- Cell normalisers of the tax filing (pure; the shared ones are in core.cells) ----------------
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def parse_tier(value) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 1 <= value <= 9:
            return int(value)
        raise CellError(ERR_TIER.format(value=text(value, 40)))
    raw = str(value).translate(FULLWIDTH).strip()
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
    m = re.match(r"^\s*(20\d\d)", str(value).translate(FULLWIDTH))
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
        low = raw.translate(FULLWIDTH).lower()
        kind = "collector" if _COLLECTOR_RE.search(low) else "online" if _ONLINE_RE.search(low) else ""
        if len(_CHANNEL_MEMO) < 1000:
            _CHANNEL_MEMO[raw] = kind
    return kind


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
    out = _VOUCHER_NOISE.sub("", str(value).translate(FULLWIDTH))
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
    header = find_header(it, COLUMNS, scan=HEADER_SCAN_ROWS)
    if header is None:
        raise ReaderError(ERR_NO_HEADER.format(rows=HEADER_SCAN_ROWS))
    columns, header_row = header.columns, header.line
    filing = Filing(columns=columns, header_row=header_row, total_rows=max(sheet.total_rows - header_row, 0))

    id_idx = columns["id_number"]
    parser = RowParser(columns, default_year=default_year)

    # The rows core.intake.data_rows leaves out, counted here and checked only when the ID cell is
    # not the common one (a county's 600,000 rows skip these checks).
    def data_rows():
        count = 0
        for r, cells in it:
            id_cell = cells[id_idx] if id_idx < len(cells) else None
            if not (type(id_cell) is str and id_cell[:1].isdigit()):  # the common case skips these checks
                if all(is_blank(c) for c in cells):
                    filing.blank_rows += 1
                    continue
                if is_totals_row(cells, id_idx):
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
