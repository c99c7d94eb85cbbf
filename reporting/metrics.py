"""Pure rules of progress, ranking and awards. No database: callers pass plain values.

The rules, as the seeds state them:

- Progress is measured on persons **confirmed in treasury** (入库) against the unit's quota.
- Ranking (周排名): by rate, highest first. Stated tie-break: rates are compared exactly (not
  the rounded percentage shown); equal rates → more confirmed persons first → region code
  ascending. A unit with no quota has no rate and ranks after every unit that has one.
  Every unit gets its own position 1…n.
- Rank change = last period's position − this period's (positive: moved up).
- Bottom group: the last ``bottom_group_size`` positions. A unit in the bottom group in each of
  the last ``interview_after_weeks`` rankings (this one included) is flagged for an
  interview (约谈) — Jiangnan: "连续两周排名靠后的单位 … 约谈".
- Missing report (Jiangnan): a unit that misses the daily report is reported with its previous
  figures (以该单位前一次上报数据为准), flagged as carried forward.
- Prizes: grades in order (一等奖 × n …) go to the top positions. If any grade has no amount
  (Neixiang names a 300,000 yuan pool in three grades without the split), nothing is split:
  the grades are named and the pool is shown.
- Work funds: a fixed sum per confirmed person (Neixiang 1.5 yuan).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.choices import RegionLevel
from core.money import CENT, ZERO, to_money

TIE_BREAK_TEXT = "按参保率（入库人数÷任务数）从高到低排名；参保率相同的，入库人数多的在前；仍相同的，按区划代码从小到大。无任务数的单位排在最后。"


# --- Rates ---------------------------------------------------------------------------------


def exact_rate(numerator: int | None, denominator: int | None) -> Fraction | None:
    """numerator / denominator as an exact fraction; None without a positive denominator."""
    if not denominator or denominator <= 0 or numerator is None:
        return None
    return Fraction(int(numerator), int(denominator))


def rate(numerator: int | None, denominator: int | None) -> Decimal | None:
    """A percentage with two decimals (half up), e.g. 97.25 for 97.25 %. None without a quota."""
    exact = exact_rate(numerator, denominator)
    if exact is None:
        return None
    return (Decimal(exact.numerator) * 100 / Decimal(exact.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def short_of(confirmed: int | None, quota: int | None, goal: Decimal | None) -> int | None:
    """Persons a unit still lacks to reach ``goal`` % of its quota (0 when it has); None without
    a quota or a goal. 1,000 × 90 % needs 900: a unit at 899 is short of 1."""
    if not quota or goal is None:
        return None
    needed = math.ceil(Fraction(int(quota)) * Fraction(str(goal)) / 100)
    return max(needed - int(confirmed or 0), 0)


def as_of_text(*, live: bool, now: datetime, day: date | None = None, taken_at: datetime | None = None) -> str:
    """What a card of figures says about their time: 截至今日 10:52（实时） for live figures,
    截至昨日 17:00（每日快照） for a snapshot taken on its day, 截至12月5日日终（每日快照） for one
    taken later (it holds the whole day)."""
    if live:
        return f"截至今日 {now:%H:%M}（实时）"
    assert day is not None
    words = {now.date(): "今日", now.date() - timedelta(days=1): "昨日"}
    word = words.get(day) or (f"{day.month}月{day.day}日" if day.year == now.year else f"{day.year}年{day.month}月{day.day}日")
    when = f" {taken_at:%H:%M}" if taken_at is not None and taken_at.date() == day else "日终"
    return f"截至{word}{when}（每日快照）"


def resolve_quota(own: int | None, children: Iterable[int | None]) -> int | None:
    """A unit's own quota if it has one, else the sum of its children's (None if none has one)."""
    if own:
        return int(own)
    values = [int(c) for c in children if c]
    return sum(values) if values else None


# --- Formatting for Chinese readers ----------------------------------------------------------


def format_wan(value) -> str:
    """Counts: 58.6万 for 586,000; plain digits below 10,000; '—' for None. Money (a Decimal) is
    never rounded to 万 here: it reads to the yuan (``format_money``), as clerks reconcile it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format_money(value)
    number = Decimal(str(value))
    if abs(number) >= 10000:
        wan = (number / 10000).quantize(Decimal("0.1") if abs(number) < 1_000_000 else Decimal("1"), rounding=ROUND_HALF_UP)
        text = f"{wan:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{text}万"
    if number == number.to_integral_value():
        return str(int(number))
    return f"{number.quantize(CENT, rounding=ROUND_HALF_UP):f}"


HEADLINE_LEVEL = RegionLevel.COUNTY  # the only level whose money reads in 万


def format_money(value, level: str | None = None) -> str:
    """Money to the yuan (586000.00) for townships, villages and every table a clerk reconciles;
    a county's headline (``level`` "county") in 万 with two places (58.63万), as leaders read it."""
    if value is None or value == "":
        return "—"
    number = to_money(value)
    if level == HEADLINE_LEVEL and abs(number) >= 10000:
        wan = f"{(number / 10000).quantize(CENT, rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
        return f"{wan}万"
    return f"{number:f}"


def format_percent(value) -> str:
    """97.3% (one decimal, half up); '—' for None."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}%"


# --- Ranking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One unit's figures for a ranking."""

    code: str
    name: str
    confirmed: int
    quota: int | None
    collected: int = 0
    carried: bool = False  # figures carried forward from an earlier report


@dataclass(frozen=True)
class Ranked:
    code: str
    name: str
    rank: int
    confirmed: int
    quota: int | None
    rate: Decimal | None
    collected: int = 0
    carried: bool = False
    previous_rank: int | None = None
    change: int | None = None
    in_bottom: bool = False
    interview: bool = False
    bottom_streak: int = 0


def _sort_key(unit: Unit):
    exact = exact_rate(unit.confirmed, unit.quota)
    has_rate = exact is not None
    return (0 if has_rate else 1, -(exact or 0), -unit.confirmed, unit.code)


def rank_units(units: Iterable[Unit]) -> list[Ranked]:
    """Positions 1…n by the stated tie-break (see TIE_BREAK_TEXT)."""
    ordered = sorted(units, key=_sort_key)
    return [
        Ranked(
            code=u.code,
            name=u.name,
            rank=i,
            confirmed=u.confirmed,
            quota=u.quota,
            rate=rate(u.confirmed, u.quota),
            collected=u.collected,
            carried=u.carried,
        )
        for i, u in enumerate(ordered, 1)
    ]


def rank_change(current: int, previous: int | None) -> int | None:
    """Positive when the unit moved up (e.g. 5th → 2nd is +3); None without a previous rank."""
    if previous is None:
        return None
    return previous - current


def bottom_codes(ranked: Sequence[Ranked], size: int) -> set[str]:
    """The last ``size`` positions (the whole list if it is shorter; nothing if size is 0)."""
    if size <= 0:
        return set()
    return {r.code for r in ranked[-size:]}


def bottom_streak(code: str, history: Sequence[set[str]]) -> int:
    """How many consecutive rankings, counting back from the newest, had ``code`` at the bottom.
    ``history`` runs oldest → newest and includes the current ranking."""
    streak = 0
    for bottom in reversed(history):
        if code not in bottom:
            break
        streak += 1
    return streak


def needs_interview(code: str, history: Sequence[set[str]], weeks: int) -> bool:
    """In the bottom group in each of the last ``weeks`` rankings (约谈)."""
    return weeks > 0 and bottom_streak(code, history) >= weeks


def weekly_ranking(
    units: Iterable[Unit],
    *,
    previous_ranks: Mapping[str, int] | None = None,
    previous_bottoms: Sequence[set[str]] = (),
    bottom_size: int = 2,
    interview_after: int = 2,
) -> list[Ranked]:
    """Rank, compare with last period and flag interviews.

    ``previous_bottoms``: the bottom groups of earlier rankings, oldest → newest.
    """
    previous_ranks = previous_ranks or {}
    ranked = rank_units(units)
    bottom = bottom_codes(ranked, bottom_size)
    history = [*previous_bottoms, bottom]
    result = []
    for r in ranked:
        prev = previous_ranks.get(r.code)
        streak = bottom_streak(r.code, history)
        result.append(
            replace(
                r,
                previous_rank=prev,
                change=rank_change(r.rank, prev),
                in_bottom=r.code in bottom,
                bottom_streak=streak,
                interview=interview_after > 0 and streak >= interview_after,
            )
        )
    return result


# --- Missing reports ------------------------------------------------------------------------------


def carry_forward(current: Mapping[str, object | None], previous: Mapping[str, object]) -> dict[str, tuple[object, bool]]:
    """Jiangnan: a unit that misses the report is reported with its previous figures.

    ``current`` maps unit → this report's figures or None (missing); ``previous`` maps unit →
    its last reported figures. Returns unit → (figures, carried). A unit missing now and never
    reported before is left out.
    """
    out: dict[str, tuple[object, bool]] = {}
    for code in set(current) | set(previous):
        figures = current.get(code)
        if figures is not None:
            out[code] = (figures, False)
        elif code in previous and previous[code] is not None:
            out[code] = (previous[code], True)
    return out


# --- Prizes and work funds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    rank: int
    name: str
    count: int | None  # None: the policy names the grade without saying how many
    amount: Decimal | None


@dataclass(frozen=True)
class Award:
    code: str
    position: int
    grade: str
    amount: Decimal | None


@dataclass
class PrizePlan:
    awards: list[Award] = field(default_factory=list)
    total: Decimal | None = ZERO
    pool: Decimal | None = None
    split: bool = True  # False when the grades' amounts are not given: only the pool is shown
    over_pool: bool = False  # grades add up to more than the pool


def allocate_prizes(ranked_codes: Sequence[str], grades: Iterable[Grade], *, pool: Decimal | None = None) -> PrizePlan:
    """Give the grades, best first, to the top positions. Jiangnan: 1×30000, 1×20000, 2×10000.

    If any grade has no amount, nothing is split: grades are named, amounts are None, and the
    plan carries the pool (Neixiang: 300,000 yuan across three grades, split not given). If any
    grade has no number of places, no unit can be placed in a grade at all: no awards.
    """
    grades = sorted(grades, key=lambda g: g.rank)
    split = bool(grades) and all(g.amount is not None and g.count is not None for g in grades)
    awards: list[Award] = []
    position = 0
    placeable = all(g.count is not None for g in grades)
    for grade in grades if placeable else []:
        for _ in range(grade.count):
            if position >= len(ranked_codes):
                break
            awards.append(
                Award(
                    code=ranked_codes[position],
                    position=position + 1,
                    grade=grade.name,
                    amount=to_money(grade.amount) if split else None,
                )
            )
            position += 1
    pool = to_money(pool) if pool is not None else None
    if not split:
        return PrizePlan(awards=awards, total=None, pool=pool, split=False)
    total = sum((a.amount for a in awards), ZERO)
    return PrizePlan(awards=awards, total=total, pool=pool, split=True, over_pool=pool is not None and total > pool)


def work_funds(confirmed: int, per_person: Decimal | None) -> Decimal | None:
    """Neixiang: 1.5 yuan × confirmed persons. None when the policy sets no rate."""
    if per_person is None:
        return None
    return to_money(Decimal(str(per_person)) * int(confirmed))


# --- Schedule ---------------------------------------------------------------------------------------


def phase_target(day: date, phases: Iterable[tuple[date, Decimal, str]]) -> tuple[date, Decimal, str] | None:
    """The phase target in force on ``day``: the first one due on or after it, else the last."""
    phases = sorted(phases)
    if not phases:
        return None
    for phase in phases:
        if phase[0] >= day:
            return phase
    return phases[-1]


def daily_due(now: datetime, *, cutoff: time, taken_today: bool, start: date, end: date) -> bool:
    """The daily snapshot is due once the local time has passed the cut-off, inside the
    season (window start … extension end), and not yet taken today."""
    if taken_today:
        return False
    today = now.date()
    return start <= today <= end and now.time() >= cutoff


def is_ranking_day(day: date, *, weekday: int, every_days: int = 7, first: date) -> bool:
    """Weekly (every_days=7): the county's weekday, on or after ``first``. Other cadences (e.g. 15,
    half-monthly): every ``every_days`` days counted from the first ranking weekday on or after
    ``first``."""
    if day < first:
        return False
    if every_days == 7 or every_days <= 0:
        return day.isoweekday() == weekday
    anchor = first + timedelta(days=(weekday - first.isoweekday()) % 7)
    return day >= anchor and (day - anchor).days % every_days == 0


def ranking_days(start: date, end: date, *, weekday: int, every_days: int = 7) -> list[date]:
    """Every ranking day from ``start`` to ``end`` inclusive."""
    days, day = [], start
    while day <= end:
        if is_ranking_day(day, weekday=weekday, every_days=every_days, first=start):
            days.append(day)
        day += timedelta(days=1)
    return days


def next_ranking_day(day: date, *, weekday: int, every_days: int = 7, first: date) -> date:
    """The first ranking day on or after ``day`` (where a weekly note filed on ``day`` is printed)."""
    probe = max(day, first)
    for _ in range(max(every_days, 7) * 2 + 7):
        if is_ranking_day(probe, weekday=weekday, every_days=every_days, first=first):
            return probe
        probe += timedelta(days=1)
    return probe
