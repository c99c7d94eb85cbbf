"""Whom the paid list names and when it is due (subsidies.postings), with the seeds' settings."""

from datetime import date

import pytest

from subsidies.postings import (
    MSG_FULL_DUE,
    MSG_FULL_LATE,
    MSG_FULL_MISSING,
    MSG_NEXT_DUE,
    MSG_NEXT_OVERDUE,
    PostingRules,
    posting_state,
    schedule_years,
)

# Shizhu 2025: cash payers, in full within a month of the window (ended 31 December 2024), then quarterly.
SHIZHU = PostingRules(year=2025, payers="cash", window_end=date(2024, 12, 31), due_months=1, every_months=3)
# Neixiang 2025: everyone the tax office confirmed, at least 5 working days, no deadline.
NEIXIANG = PostingRules(year=2025, payers="all", window_end=date(2024, 12, 31), min_working_days=5)


def test_whom_the_list_names():
    assert (SHIZHU.lists, NEIXIANG.lists) == ("cash", "all")
    unset = PostingRules(year=2024, payers="", window_end=date(2023, 12, 25))
    assert unset.lists == "paid" and unset.lists_label == "全部已缴费人员（已入库及现金收款）"
    assert (SHIZHU.deadline, NEIXIANG.deadline, unset.deadline) == (date(2025, 1, 31), None, None)


@pytest.mark.parametrize(
    "postings, today, late, overdue, messages",
    [
        ([], date(2025, 1, 20), False, False, (MSG_FULL_DUE.format(deadline="2025年1月31日"),)),
        ([], date(2025, 1, 31), False, False, (MSG_FULL_DUE.format(deadline="2025年1月31日"),)),  # the last day is still in time
        ([], date(2025, 2, 1), True, False, (MSG_FULL_MISSING.format(deadline="2025年1月31日"),)),
        ([date(2025, 1, 31)], date(2025, 2, 1), False, False, (MSG_NEXT_DUE.format(due="2025年4月30日"),)),
        ([date(2025, 2, 3)], date(2025, 2, 5), True, False,
         (MSG_FULL_LATE.format(deadline="2025年1月31日", posted="2025年2月3日"), MSG_NEXT_DUE.format(due="2025年5月3日"))),
        # A posting during the window is a quarterly one, not the full one after it.
        ([date(2024, 11, 1)], date(2025, 2, 2), True, True,
         (MSG_FULL_MISSING.format(deadline="2025年1月31日"), MSG_NEXT_OVERDUE.format(due="2025年2月1日"))),
        ([date(2025, 1, 10), date(2025, 4, 8)], date(2025, 7, 9), False, True, (MSG_NEXT_OVERDUE.format(due="2025年7月8日"),)),
        # No quarterly posting is due after the benefit year.
        ([date(2025, 1, 10), date(2025, 10, 8)], date(2026, 3, 1), False, False, ()),
    ],
)
def test_shizhu_schedule(postings, today, late, overdue, messages):
    state = posting_state(SHIZHU, postings, today=today)
    assert (state.late, state.overdue, state.messages) == (late, overdue, messages)
    assert state.flagged == (late or overdue)


def test_neixiang_sets_no_deadline():
    state = posting_state(NEIXIANG, [], today=date(2025, 6, 1))
    assert not state.flagged and state.messages == () and state.next_due is None


def test_schedule_years():
    assert schedule_years(SHIZHU) == {2025}
    assert schedule_years(PostingRules(year=2025, payers="all", window_end=date(2025, 2, 28))) == {2025}
    state = posting_state(SHIZHU, [date(2025, 10, 20)], today=date(2025, 10, 21))
    assert state.next_due is None and schedule_years(SHIZHU, state) == {2025}
