"""Cell values as the roster keeps them: household numbers as text, half-width, no spaces."""

from __future__ import annotations

import re
from decimal import Decimal

ERR_HOUSEHOLD_NUMBER_CELL = (
    "户号“{shown}”在表格中被存成了数字，Excel 会去掉开头的0（如 00001 变成 1），已无法知道原来的户号。"
    "请把户号一列设为“文本”格式（或在户号前加英文单引号，如 '00001），按户口簿重新填写后再上传。"
)

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # ０-９, Ａ-Ｚ, －… → ASCII
_WHITESPACE = re.compile(r"\s+")  # includes the ideographic space U+3000


class HouseholdNumberError(ValueError):
    """A user-facing, Chinese explanation of why a cell is not a household number."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    return _WHITESPACE.sub("", str(raw).translate(_FULLWIDTH))


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
