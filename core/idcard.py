"""Resident ID numbers (公民身份号码, GB 11643-1999). Pure functions, no database.

An ID is 6 digits of area code, 8 digits of birth date, 3 digits of sequence (odd = male)
and one ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

ERR_EMPTY = "身份证号码不能为空。"
ERR_NUMERIC_CELL = "身份证号码在表格中被存成了数字（如 4.11325E+17），后几位已丢失，请把该列设为文本后重新填写。"
ERR_LEGACY_15 = "这是15位旧身份证号码，请改用18位号码：{suggestion}。"
ERR_LENGTH = "身份证号码应为18位，现为{length}位。"
ERR_CHARS = "身份证号码前17位只能是数字，最后一位是数字或X。"
ERR_AREA = "身份证号码前6位地区码“{area}”不正确。"
ERR_BIRTH = "身份证号码中的出生日期“{birth}”不是有效日期。"
ERR_FUTURE = "身份证号码中的出生日期“{birth}”晚于今天。"
ERR_TOO_OLD = "身份证号码中的出生日期“{birth}”早于1900年。"
ERR_CHECK = "身份证号码校验位不正确：最后一位应为“{expected}”，请核对号码是否抄错。"

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＸｘＸ"}
_SPACES = re.compile(r"[\s\u3000\-]+")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")
# ASCII only: str.isdigit() and \d also take ², ① and ٣, which int() refuses or reads as another digit.
_FORM_18 = re.compile(r"[0-9]{17}[0-9X]")
_FORM_15 = re.compile(r"[0-9]{15}")


class IdNumberError(ValueError):
    """A user-facing, Chinese explanation of what is wrong with an ID number."""

    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


@dataclass(frozen=True)
class IdInfo:
    number: str
    area: str
    birth_date: date
    sex: str  # "M" or "F"


def normalize(raw) -> str:
    """What people type → canonical form: no spaces, half-width digits, upper-case X."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        # A spreadsheet cell that held the ID as a number has already lost its last digits.
        raise IdNumberError(ERR_NUMERIC_CELL)
    text = str(raw).translate(_FULLWIDTH)
    text = _SPACES.sub("", text)
    return text.upper()


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade15(old: str) -> str:
    """A 15-digit legacy number (born 19xx) as its 18-digit form."""
    first17 = old[:6] + "19" + old[6:15]
    return first17 + check_char(first17)


def parse(raw, *, today: date | None = None) -> IdInfo:
    """Validate and decode an ID number, raising IdNumberError with a Chinese message."""
    number = normalize(raw)
    if not number:
        raise IdNumberError(ERR_EMPTY)
    if _SCIENTIFIC.match(number):
        raise IdNumberError(ERR_NUMERIC_CELL)
    if _FORM_15.fullmatch(number):
        suggestion = upgrade15(number)
        raise IdNumberError(ERR_LEGACY_15.format(suggestion=suggestion), suggestion=suggestion)
    if len(number) != 18:
        raise IdNumberError(ERR_LENGTH.format(length=len(number)))
    if not _FORM_18.fullmatch(number):
        raise IdNumberError(ERR_CHARS)
    area = number[:6]
    # Province codes run 11-82; county part is never 0000 for a person's area.
    if not (11 <= int(area[:2]) <= 82) or area[2:] == "0000":
        raise IdNumberError(ERR_AREA.format(area=area))
    birth = number[6:14]
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        raise IdNumberError(ERR_BIRTH.format(birth=birth)) from None
    if born > (today or date.today()):
        raise IdNumberError(ERR_FUTURE.format(birth=birth))
    if born.year < 1900:
        raise IdNumberError(ERR_TOO_OLD.format(birth=birth))
    expected = check_char(number[:17])
    if number[17] != expected:
        raise IdNumberError(ERR_CHECK.format(expected=expected))
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, area=area, birth_date=born, sex=sex)


def is_valid(raw) -> bool:
    try:
        parse(raw)
    except IdNumberError:
        return False
    return True


def make(area: str, born: date, sequence: int) -> str:
    """Build a valid synthetic ID (for demo data and tests). sequence 0-999; odd = male."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask(number: str | None) -> str:
    """411325********1234: area code and last four only."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def last4(number: str | None) -> str:
    return (number or "")[-4:]
