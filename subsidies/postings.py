"""When a village's paid list is posted (公示), and whom it lists: pure rules over the policy.

Two kinds are seen in the seeds, both policy data (``PolicyYear.publicity_payers``):
Neixiang posts the tax office's list of everyone who paid, by any channel, for at least 5
working days after the collection window; Shizhu posts the residents who paid in cash, in full
within one month after the window (``posting_due_months``), then every quarter
(``posting_every_months``). A county whose plan sets neither lists every confirmed payer and
checks no date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .benefit import add_months
from .choices import PublicityPayers

MSG_PAYERS_UNSET = "本县征缴方案未规定缴费公示范围，名单列示全部已缴费人员：税务部门确认入库的，以及已向村（社区）征收人员缴纳现金、尚未入库的。"
MSG_FULL_LATE = "公示逾期：应于{deadline}前完成全面公示，{posted}才张贴。"
MSG_FULL_MISSING = "公示逾期：应于{deadline}前完成全面公示，尚未登记张贴。"
MSG_FULL_DUE = "应于{deadline}前完成全面公示。"
MSG_NEXT_OVERDUE = "公示逾期：按期公示应于{due}前再次张贴，尚未登记。"
MSG_NEXT_DUE = "下次公示应于{due}前张贴。"


def day_text(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True)
class PostingRules:
    """A policy year's publicity settings, as plain values."""

    year: int
    payers: str  # PublicityPayers value; "" when the plan sets none
    window_end: date
    min_working_days: int | None = None
    due_months: int | None = None
    every_months: int | None = None
    after_window: bool = False  # a posting starts only once the window has ended (Neixiang)

    @classmethod
    def from_policy(cls, policy) -> PostingRules:
        return cls(
            year=policy.year,
            payers=policy.publicity_payers,
            window_end=policy.window_end,
            min_working_days=policy.posting_working_days,
            due_months=policy.posting_due_months,
            every_months=policy.posting_every_months,
            after_window=policy.posting_after_window,
        )

    @property
    def lists(self) -> str:
        """Whom the list names: the plan's kind; everyone known to have paid where it sets none."""
        return self.payers or str(PublicityPayers.PAID)

    @property
    def lists_label(self) -> str:
        return str(PublicityPayers(self.lists).label)

    @property
    def deadline(self) -> date | None:
        """The last day for the full posting after the window (None: the plan sets no deadline)."""
        return add_months(self.window_end, self.due_months) if self.due_months else None


@dataclass(frozen=True)
class PostingState:
    """Where a village stands against the schedule on a day."""

    deadline: date | None
    full_posted_on: date | None  # start of the first posting after the window
    next_due: date | None
    late: bool  # the full posting came after the deadline, or is missing past it
    overdue: bool  # the next periodic posting is past due
    messages: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.late or self.overdue


def posting_state(rules: PostingRules, posted_from: Iterable[date], *, today: date) -> PostingState:
    """``posted_from``: the start dates of the village's postings for the year.

    The full posting is the first one that starts after the window's end; it is late when it
    starts after ``rules.deadline`` (or is still missing once that day has passed). With
    ``every_months``, the next posting is due that many months after the latest one started,
    up to the end of the benefit year (cash is taken until then)."""
    starts = sorted(posted_from)
    deadline = rules.deadline
    full = next((d for d in starts if d > rules.window_end), None)
    messages: list[str] = []
    late = False
    if deadline is not None:
        if full is None and today > deadline:
            late = True
            messages.append(MSG_FULL_MISSING.format(deadline=day_text(deadline)))
        elif full is not None and full > deadline:
            late = True
            messages.append(MSG_FULL_LATE.format(deadline=day_text(deadline), posted=day_text(full)))
        elif full is None:
            messages.append(MSG_FULL_DUE.format(deadline=day_text(deadline)))
    next_due, overdue = None, False
    if rules.every_months and starts:
        due = add_months(starts[-1], rules.every_months)
        if due <= date(rules.year, 12, 31):
            next_due = due
            overdue = today > due
            messages.append((MSG_NEXT_OVERDUE if overdue else MSG_NEXT_DUE).format(due=day_text(due)))
    return PostingState(deadline, full, next_due, late, overdue, tuple(messages))


def schedule_years(rules: PostingRules, state: PostingState | None = None) -> set[int]:
    """The years postings of this policy year fall in: after the window, up to the next due day."""
    days = [rules.window_end.toordinal() + 1]
    for d in (rules.deadline, state.next_due if state else None):
        if d is not None:
            days.append(d.toordinal())
    return {date.fromordinal(d).year for d in days}
