"""Table tests of the pure ranking, rate and award rules (reporting/metrics.py)."""

from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction

import pytest

from reporting import metrics
from reporting.metrics import Grade, Unit


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (0, 100, Decimal("0.00")),
        (1, 3, Decimal("33.33")),
        (2, 3, Decimal("66.67")),
        (29918, 30218, Decimal("99.01")),  # Jiangnan: 2024 actual against 2025 target
        (165000, 165828, Decimal("99.50")),  # Qinshui's 99.5 % target, rounded half up
        (101, 100, Decimal("101.00")),
        (5, 0, None),
        (5, None, None),
        (None, 10, None),
    ],
)
def test_rate(num, den, expected):
    assert metrics.rate(num, den) == expected


def test_exact_rate_is_a_fraction():
    assert metrics.exact_rate(1, 3) == Fraction(1, 3)
    assert metrics.exact_rate(1, 0) is None


@pytest.mark.parametrize(
    ("own", "children", "expected"),
    [
        (586000, [None, None], 586000),  # Neixiang: county target only
        (None, [2594, 3566, 2338], 8498),  # Jiangnan villages add up
        (None, [2594, None], 2594),
        (None, [], None),
        (None, [None, 0], None),
        (0, [10], 10),
    ],
)
def test_resolve_quota(own, children, expected):
    assert metrics.resolve_quota(own, children) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (586000, "58.6万"),
        (165828, "16.6万"),
        (10000, "1万"),
        (9999, "9999"),
        (0, "0"),
        (1_234_567, "123万"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("586000.00"), "586000.00"),  # money: to the yuan, never 58.6万
        (Decimal("1234567.8"), "1234567.80"),
        (None, "—"),
    ],
)
def test_format_wan(value, expected):
    assert metrics.format_wan(value) == expected


@pytest.mark.parametrize(
    ("value", "level", "expected"),
    [
        (Decimal("586123.45"), "township", "586123.45"),
        (Decimal("586123.45"), "village", "586123.45"),
        (Decimal("586123.45"), None, "586123.45"),
        (Decimal("586123.45"), "county", "58.61万"),
        (Decimal("5860000"), "county", "586万"),
        (Decimal("9999.99"), "county", "9999.99"),
        ("400", "county", "400.00"),
        (None, "county", "—"),
    ],
)
def test_money_is_to_the_yuan_except_a_county_headline(value, level, expected):
    assert metrics.format_money(value, level) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("97.25"), "97.3%"), (Decimal("99.50"), "99.5%"), (Decimal("0"), "0.0%"), ("100", "100.0%"), (None, "—")],
)
def test_format_percent(value, expected):
    assert metrics.format_percent(value) == expected


# --- Ranking and its tie-break ---------------------------------------------------------------


def codes(ranked):
    return [r.code for r in ranked]


def test_rank_by_rate_highest_first():
    units = [Unit("A", "甲", 50, 100), Unit("B", "乙", 90, 100), Unit("C", "丙", 70, 100)]
    ranked = metrics.rank_units(units)
    assert codes(ranked) == ["B", "C", "A"]
    assert [r.rank for r in ranked] == [1, 2, 3]
    assert ranked[0].rate == Decimal("90.00")


def test_tie_on_rate_more_confirmed_first():
    units = [Unit("A", "甲", 50, 100), Unit("B", "乙", 100, 200)]
    assert codes(metrics.rank_units(units)) == ["B", "A"]


def test_tie_on_rate_and_count_code_ascending():
    units = [Unit("B", "乙", 50, 100), Unit("A", "甲", 50, 100)]
    assert codes(metrics.rank_units(units)) == ["A", "B"]
    assert [r.rank for r in metrics.rank_units(units)] == [1, 2]  # every unit its own position


def test_rates_compared_exactly_not_as_rounded_percent():
    # 99.994 % and 99.996 % both show as 99.99 % but are not tied.
    units = [Unit("A", "甲", 99994, 100000), Unit("B", "乙", 99996, 100000)]
    assert codes(metrics.rank_units(units)) == ["B", "A"]


def test_units_without_quota_rank_last():
    units = [Unit("A", "甲", 500, None), Unit("B", "乙", 1, 100), Unit("C", "丙", 10, 0)]
    ranked = metrics.rank_units(units)
    assert codes(ranked) == ["B", "A", "C"]
    assert ranked[1].rate is None


@pytest.mark.parametrize(("current", "previous", "expected"), [(2, 5, 3), (5, 2, -3), (3, 3, 0), (1, None, None)])
def test_rank_change(current, previous, expected):
    assert metrics.rank_change(current, previous) == expected


def test_bottom_group():
    ranked = metrics.rank_units([Unit(c, c, n, 100) for c, n in [("A", 90), ("B", 80), ("C", 70), ("D", 60)]])
    assert metrics.bottom_codes(ranked, 2) == {"C", "D"}
    assert metrics.bottom_codes(ranked, 0) == set()
    assert metrics.bottom_codes(ranked, 10) == {"A", "B", "C", "D"}


@pytest.mark.parametrize(
    ("history", "weeks", "expected"),
    [
        ([{"D"}, {"D"}], 2, True),  # two weeks running
        ([{"C"}, {"D"}], 2, False),  # only this week
        ([{"D"}, {"C"}], 2, False),  # only last week
        ([{"D"}], 2, False),  # first ranking of the season: no interview yet
        ([{"D"}, {"C"}, {"D"}], 2, False),  # not consecutive
        ([{"D"}, {"D"}, {"D"}], 3, True),
        ([{"C"}, {"D"}, {"D"}], 3, False),
        ([{"D"}], 1, True),
        ([{"D"}, {"D"}], 0, False),
    ],
)
def test_interview_after_weeks(history, weeks, expected):
    assert metrics.needs_interview("D", history, weeks) is expected


def test_weekly_ranking_combines_change_and_flag():
    units = [Unit("A", "甲", 90, 100), Unit("B", "乙", 80, 100), Unit("C", "丙", 70, 100), Unit("D", "丁", 60, 100)]
    ranked = metrics.weekly_ranking(
        units, previous_ranks={"A": 3, "B": 1, "C": 4, "D": 2}, previous_bottoms=[{"A", "C"}], bottom_size=2, interview_after=2
    )
    by = {r.code: r for r in ranked}
    assert by["A"].change == 2 and by["B"].change == -1 and by["D"].change == -2
    assert by["C"].in_bottom and by["D"].in_bottom and not by["A"].in_bottom
    assert by["C"].interview is True  # bottom last week and this week
    assert by["D"].interview is False  # bottom this week only
    assert by["C"].bottom_streak == 2 and by["A"].bottom_streak == 0


def test_weekly_ranking_new_unit_has_no_change():
    ranked = metrics.weekly_ranking([Unit("A", "甲", 1, 10)], previous_ranks={})
    assert ranked[0].previous_rank is None and ranked[0].change is None


# --- Missing report → previous figures ---------------------------------------------------------


def test_missing_report_uses_previous_figures():
    out = metrics.carry_forward({"A": 10, "B": None, "C": None}, {"A": 5, "B": 7})
    assert out == {"A": (10, False), "B": (7, True)}  # C never reported: left out


def test_carried_unit_ranks_on_previous_figures():
    figures = metrics.carry_forward({"A": 50, "B": None}, {"B": 80})
    units = [Unit(code, code, n, 100, carried=c) for code, (n, c) in figures.items()]
    ranked = metrics.rank_units(units)
    assert codes(ranked) == ["B", "A"] and ranked[0].carried


# --- Prizes and work funds ----------------------------------------------------------------------

JIANGNAN = [Grade(1, "一等奖", 1, Decimal("30000")), Grade(2, "二等奖", 1, Decimal("20000")), Grade(3, "三等奖", 2, Decimal("10000"))]


def test_jiangnan_prizes():
    plan = metrics.allocate_prizes(["A", "B", "C", "D", "E"], JIANGNAN)
    assert [(a.code, a.grade, a.amount) for a in plan.awards] == [
        ("A", "一等奖", Decimal("30000.00")),
        ("B", "二等奖", Decimal("20000.00")),
        ("C", "三等奖", Decimal("10000.00")),
        ("D", "三等奖", Decimal("10000.00")),
    ]
    assert plan.total == Decimal("70000.00") and plan.split


def test_prizes_grades_given_out_of_order_and_fewer_units():
    plan = metrics.allocate_prizes(["A", "B"], list(reversed(JIANGNAN)))
    assert [(a.code, a.grade) for a in plan.awards] == [("A", "一等奖"), ("B", "二等奖")]
    assert plan.total == Decimal("50000.00")


def test_neixiang_pool_without_split_is_shown_not_divided():
    grades = [Grade(1, "一等奖", 2, None), Grade(2, "二等奖", 4, None), Grade(3, "三等奖", 6, None)]
    plan = metrics.allocate_prizes([f"T{i:02d}" for i in range(1, 17)], grades, pool=Decimal("300000"))
    assert not plan.split and plan.total is None
    assert plan.pool == Decimal("300000.00")
    assert all(a.amount is None for a in plan.awards)
    assert len(plan.awards) == 12 and plan.awards[0].grade == "一等奖" and plan.awards[-1].grade == "三等奖"


def test_neixiang_seed_grades_without_places_award_nobody():
    # The seed: "30万元，按照一二三等奖" — neither places nor amounts are given.
    grades = [Grade(1, "一等奖", None, None), Grade(2, "二等奖", None, None), Grade(3, "三等奖", None, None)]
    plan = metrics.allocate_prizes([f"T{i:02d}" for i in range(1, 17)], grades, pool=Decimal("300000.00"))
    assert plan.awards == [] and not plan.split and plan.total is None and plan.pool == Decimal("300000.00")


def test_no_grades_no_awards():
    plan = metrics.allocate_prizes(["A"], [], pool=Decimal("300000"))
    assert plan.awards == [] and not plan.split and plan.pool == Decimal("300000.00")


def test_grades_exceeding_pool_are_flagged():
    plan = metrics.allocate_prizes(["A", "B", "C", "D"], JIANGNAN, pool=Decimal("60000"))
    assert plan.over_pool


@pytest.mark.parametrize(
    ("confirmed", "per_person", "expected"),
    [
        (586000, Decimal("1.5"), Decimal("879000.00")),  # Neixiang: 1.5 yuan × 586,000
        (1, Decimal("1.5"), Decimal("1.50")),
        (3, Decimal("1.5"), Decimal("4.50")),
        (0, Decimal("1.5"), Decimal("0.00")),
        (100, None, None),
    ],
)
def test_work_funds(confirmed, per_person, expected):
    assert metrics.work_funds(confirmed, per_person) == expected


# --- Schedule ------------------------------------------------------------------------------------------


def test_phase_target_in_force():
    phases = [(date(2024, 12, 31), Decimal("90"), "集中征缴"), (date(2025, 2, 28), Decimal("99.5"), "全年")]
    assert metrics.phase_target(date(2024, 10, 1), phases)[1] == Decimal("90")
    assert metrics.phase_target(date(2024, 12, 31), phases)[1] == Decimal("90")
    assert metrics.phase_target(date(2025, 1, 1), phases)[1] == Decimal("99.5")
    assert metrics.phase_target(date(2025, 6, 1), phases)[1] == Decimal("99.5")
    assert metrics.phase_target(date(2025, 6, 1), []) is None


@pytest.mark.parametrize(
    ("now", "taken", "expected"),
    [
        (datetime(2024, 10, 8, 16, 59), False, False),
        (datetime(2024, 10, 8, 17, 0), False, True),
        (datetime(2024, 10, 8, 17, 15), True, False),
        (datetime(2024, 8, 30, 18, 0), False, False),  # before the season
        (datetime(2025, 3, 1, 18, 0), False, False),  # after it
    ],
)
def test_daily_due(now, taken, expected):
    assert metrics.daily_due(now, cutoff=time(17, 0), taken_today=taken, start=date(2024, 9, 1), end=date(2025, 2, 28)) is expected


def test_weekly_ranking_days_on_weekday():
    # Neixiang reports on Fridays (isoweekday 5); 2024-09-06 is a Friday.
    days = metrics.ranking_days(date(2024, 9, 1), date(2024, 9, 30), weekday=5)
    assert days == [date(2024, 9, 6), date(2024, 9, 13), date(2024, 9, 20), date(2024, 9, 27)]


def test_half_monthly_ranking_days():
    # Gaoyang: half-monthly; anchored on the first Monday from the start.
    days = metrics.ranking_days(date(2024, 9, 1), date(2024, 10, 31), weekday=1, every_days=15)
    assert days == [date(2024, 9, 2), date(2024, 9, 17), date(2024, 10, 2), date(2024, 10, 17)]


def test_next_ranking_day():
    assert metrics.next_ranking_day(date(2024, 9, 7), weekday=5, first=date(2024, 9, 1)) == date(2024, 9, 13)
    assert metrics.next_ranking_day(date(2024, 9, 6), weekday=5, first=date(2024, 9, 1)) == date(2024, 9, 6)
    assert metrics.is_ranking_day(date(2024, 8, 30), weekday=5, first=date(2024, 9, 1)) is False


@pytest.mark.parametrize(
    ("confirmed", "quota", "goal", "short"),
    [(899, 1000, Decimal("90"), 1), (900, 1000, Decimal("90"), 0), (950, 1000, Decimal("90"), 0),
     (0, 7, Decimal("99.5"), 7), (60, 81, Decimal("90.0"), 13), (5, None, Decimal("90"), None), (5, 10, None, None)],
)
def test_short_of_the_goal(confirmed, quota, goal, short):
    assert metrics.short_of(confirmed, quota, goal) == short


def test_as_of_text_says_live_or_which_snapshot():
    from datetime import datetime

    now = datetime(2026, 12, 7, 10, 52)
    assert metrics.as_of_text(live=True, now=now) == "截至今日 10:52（实时）"
    assert metrics.as_of_text(live=False, now=now, day=date(2026, 12, 6), taken_at=datetime(2026, 12, 6, 17, 0)) == "截至昨日 17:00（每日快照）"
    assert metrics.as_of_text(live=False, now=now, day=date(2026, 12, 5), taken_at=datetime(2026, 12, 7, 3, 0)) == "截至12月5日日终（每日快照）"
    assert metrics.as_of_text(live=False, now=now, day=date(2025, 12, 31), taken_at=None) == "截至2025年12月31日日终（每日快照）"
