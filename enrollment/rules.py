"""Pure roster rules over plain values (no database): household numbers, the whole-household rule and carry-over."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from .choices import PAID_STATUSES, EnrollmentStatus

# Participation choices a clerk picks for a member in a benefit year (besides an exclusion reason).
ENROL = "enrol"


def is_enrolled(status: str | None) -> bool:
    """Money has been taken for the year (paid, declared or in treasury)."""
    return status in PAID_STATUSES


def age_on(birth: date, on: date) -> int:
    """Full years of age on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def household_is_split(members) -> bool:
    """The whole-household rule (Gaoyang: 以户为单位整户参保).

    ``members``: (is_deceased, status or None) per member for one benefit year. Eligible members
    are the living ones not excluded with a reason. The household is flagged when some eligible
    members are enrolled and others are not.
    """
    eligible = [status for deceased, status in members if not deceased and status != EnrollmentStatus.EXCLUDED]
    enrolled = sum(1 for s in eligible if is_enrolled(s))
    return 0 < enrolled < len(eligible)


# What settles a person for the year: money taken, a recorded reason, or a refund (they left).
SETTLED_STATUSES = (*PAID_STATUSES, EnrollmentStatus.EXCLUDED, EnrollmentStatus.REFUNDED)


def is_gap(*, is_deceased: bool, status: str | None) -> bool:
    """A gap (缺口): a living person neither enrolled (money taken) nor with a recorded reason
    for the year — no record, or registered and not paid. The roster, the household page and the
    dashboard's gap list (``selectors.gap_households``) all count this."""
    return not is_deceased and status not in SETTLED_STATUSES


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
