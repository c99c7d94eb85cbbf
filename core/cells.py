"""One cell normaliser for every import: a spreadsheet cell (as python-calamine, openpyxl or csv
gives it) to the value the project keeps — text, ID numbers, household numbers, dates, amounts —
or a Chinese message saying why not.

Pure functions over plain values, no database. The tax filing calls these on each of a county's
600,000 rows, so the common case of each returns early (a str ID of 18 ASCII characters, a str
cell) and the ID check memoises the parts that repeat across a county.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import mul

from core import idcard
from core.money import to_money

ERR_HOUSEHOLD_NUMBER_CELL = (
    "户号“{shown}”在表格中被存成了数字，Excel 会去掉开头的0（如 00001 变成 1），已无法知道原来的户号。"
    "请把户号一列设为“文本”格式（或在户号前加英文单引号，如 '00001），按户口簿重新填写后再上传。"
)
ERR_AMOUNT_EMPTY = "缴费金额为空。"
ERR_AMOUNT = "缴费金额“{value}”不是有效金额。"
ERR_AMOUNT_NEGATIVE = "缴费金额“{value}”为负数，退费不通过本导入处理。"
ERR_DATE = "日期“{value}”无法识别，请写成 2024-10-05、2024/10/5 或 2024年10月5日。"

MAX_TEXT = 200  # what we keep of any cell for messages and the problem-rows file
TOTAL_MARKERS = ("合计", "总计", "小计", "共计")

# str.translate table: ０-９, Ａ-Ｚ, －… and the ideographic space → ASCII (every importer's first step)
FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULLWIDTH[0x3000] = 0x20
_WHITESPACE = re.compile(r"\s+")


class CellError(ValueError):
    """A user-facing, Chinese explanation of why a cell is not the value its column needs."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class HouseholdNumberError(CellError):
    pass


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, limit: int = MAX_TEXT) -> str:
    """A cell as display text (numbers without a trailing .0, dates as 2024-01-05), capped in
    length. NUL characters (possible in a csv, refused by PostgreSQL) are dropped."""
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


def shown(value, limit: int = 40) -> str:
    """A raw cell as the clerk typed it (an ID stored as a number shows as Excel shows it)."""
    if isinstance(value, float) and abs(value) >= 1e11:
        return f"{value:.6G}"
    return text(value, limit)


def as_excel_shows(value) -> str:
    """A number as Excel's General format shows it in a cell: 1, 12.5, 4.10325E+11 (11 characters at most)."""
    number = Decimal(str(value))
    if number == number.to_integral_value() and len(str(abs(int(number)))) <= 11:
        return str(int(number))
    text = format(number.normalize(), "f")
    if len(text) <= 11:
        return text
    mantissa, exponent = f"{number:.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{int(exponent):+03d}"


# --- Household numbers ------------------------------------------------------------------------
def household_number(raw) -> str:
    """A household number (户号) as the roster keeps it: text, half-width characters, no spaces.

    A number is refused, whatever its value: a spreadsheet cell that held 00001 as a number holds 1,
    and neither the cell nor the village's other numbers say how many zeros it lost (12 may have
    been 0012), so guessing would file the row under another household.
    """
    if raw is None:
        return ""
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        raise HouseholdNumberError(ERR_HOUSEHOLD_NUMBER_CELL.format(shown=as_excel_shows(raw)))
    return _WHITESPACE.sub("", str(raw).translate(FULLWIDTH))


# --- ID numbers -------------------------------------------------------------------------------
def normalise_id(value) -> str:
    """Canonical ID text (full-width digits, spaces and a lower-case x handled by idcard.parse);
    a number cell is rejected: Excel kept only 15 significant digits of it."""
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


# --- Amounts ----------------------------------------------------------------------------------
_AMOUNT_NOISE = re.compile(r"[\s,，元圆¥￥rmbRMB]+")


def parse_amount(value) -> Decimal:
    """Yuan as Decimal with 2 places: numbers, and text with 元, ￥, commas or full-width digits."""
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
        raw = str(value).translate(FULLWIDTH)
        cleaned = _AMOUNT_NOISE.sub("", raw)
        if not re.fullmatch(r"-?\d{1,12}(\.\d{1,4})?", cleaned):
            raise CellError(ERR_AMOUNT.format(value=text(value, 40)))
        amount = to_money(cleaned)
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        raise CellError(ERR_AMOUNT.format(value=text(value, 40)))
    if amount < 0:
        raise CellError(ERR_AMOUNT_NEGATIVE.format(value=text(value, 40)))
    return amount


# --- Dates ------------------------------------------------------------------------------------
EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")


def parse_date(value) -> date | None:
    """Date cells, Excel serial numbers and the text forms offices type (2024-01-05, 2024/1/5,
    2024.1.5, 2024年1月5日, 20240105, with or without a time); blank → None."""
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
        raw = str(value).translate(FULLWIDTH).strip()
        m = _DATE_TEXT.match(raw) or _DATE_COMPACT.match(raw)
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (ValueError, OverflowError):
        raise CellError(ERR_DATE.format(value=text(value, 40))) from None


# --- Rows -------------------------------------------------------------------------------------
def is_totals_row(cells, id_index: int | None) -> bool:
    """A 合计/总计/小计 line: a marker word in one of the first text cells and no usable ID."""
    id_cell = cells[id_index] if id_index is not None and id_index < len(cells) else None
    if isinstance(id_cell, str) and len(id_cell.strip()) >= 15 and id_cell.strip()[:6].isdigit():
        return False
    for cell in cells[:8]:
        if isinstance(cell, str) and any(m in cell.replace(" ", "") for m in TOTAL_MARKERS):
            return True
    return False
