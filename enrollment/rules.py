"""Pure roster rules over plain values (no database): household numbers, the whole-household rule and carry-over."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from .choices import PAID_STATUSES, EnrollmentStatus

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


# Participation choices a clerk picks for a member in a benefit year (besides an exclusion reason).
ENROL = "enrol"


def is_enrolled(status: str | None) -> bool:
    """Money has been taken for the year (paid, declared or in treasury)."""
    return status in PAID_STATUSES


def household_is_split(members) -> bool:
    """The whole-household rule (Gaoyang: 以户为单位整户参保).

    ``members``: (is_deceased, status or None) per member for one benefit year. Eligible members
    are the living ones not excluded with a reason. The household is flagged when some eligible
    members are enrolled and others are not.
    """
    eligible = [status for deceased, status in members if not deceased and status != EnrollmentStatus.EXCLUDED]
    enrolled = sum(1 for s in eligible if is_enrolled(s))
    return 0 < enrolled < len(eligible)


def is_gap(*, is_deceased: bool, status: str | None) -> bool:
    """A living person with neither an enrollment nor a recorded reason for the year."""
    return not is_deceased and status is None


# Carry-over outcomes.
CARRY_CREATE = "created"
CARRY_EXISTS = "already"
CARRY_DECEASED = "deceased"
CARRY_EXCLUDED = "excluded"
CARRY_REFUNDED = "refunded"

CARRY_LABELS = {
    CARRY_CREATE: "已转入新年度（待缴费）",
    CARRY_EXISTS: "新年度已有记录，未改动",
    CARRY_DECEASED: "已死亡，跳过",
    CARRY_EXCLUDED: "上年度不在本地参保，跳过",
    CARRY_REFUNDED: "上年度已退费，跳过",
}


def carry_over_outcome(*, last_status: str, is_deceased: bool, has_next: bool) -> str:
    """What carrying one person's last-year enrollment into the new year does."""
    if has_next:
        return CARRY_EXISTS
    if is_deceased:
        return CARRY_DECEASED
    if last_status == EnrollmentStatus.EXCLUDED:
        return CARRY_EXCLUDED
    if last_status == EnrollmentStatus.REFUNDED:
        return CARRY_REFUNDED
    return CARRY_CREATE


@dataclass
class CarryOverReport:
    village: str
    from_year: int
    to_year: int
    counts: Counter = field(default_factory=Counter)

    @property
    def created(self) -> int:
        return self.counts[CARRY_CREATE]

    def lines(self) -> list[str]:
        return [f"{CARRY_LABELS[k]}：{self.counts[k]}人" for k in CARRY_LABELS if self.counts[k]]

    def summary(self) -> str:
        body = "；".join(self.lines()) or "上年度没有参保记录，未转入任何人"
        return f"{self.village}：{self.from_year}年度花名册转入{self.to_year}年度。{body}。"

    def as_dict(self) -> dict:
        return {
            "village": self.village,
            "from_year": self.from_year,
            "to_year": self.to_year,
            **{k: self.counts[k] for k in CARRY_LABELS},
            "summary": self.summary(),
        }
