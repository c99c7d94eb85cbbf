"""The collection season: which benefit year (待遇年度) is being worked on, and when its season ends.

Pure rules over a county's policy years; `subsidies.selectors.benefit_year` and `season_of` read
the database and ask these. Every page, report, task and import asks the same question here, so a
page and the dashboard cannot disagree on the year.

Autumn collects next year's cover (collected in 2026 for 2027), and an extension may run into the
benefit year itself (Shizhu: to the end of February). The rule, in order:

1. a season open on the day (window start … extension end, or window end without one); if two
   overlap, the one that started last;
2. else the next season to open (the county is preparing it: rosters, carry-over);
3. else the season that ended last (its figures are the last word until the next is set up);
4. with no policy year at all, the next calendar year.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Protocol


class SeasonLike(Protocol):
    """A PolicyYear, or `subsidies.benefit.CoverRules` (its plain-value copy); read-only members,
    so a frozen dataclass fits."""

    @property
    def year(self) -> int: ...
    @property
    def window_start(self) -> date: ...
    @property
    def window_end(self) -> date: ...
    @property
    def extension_end(self) -> date | None: ...


def season_end(season: SeasonLike) -> date:
    """The last day anyone can pay for the year: the extension's end, else the window's."""
    return season.extension_end or season.window_end


def is_open(season: SeasonLike, day: date) -> bool:
    return season.window_start <= day <= season_end(season)


def season_on[S: SeasonLike](day: date, seasons: Iterable[S]) -> S | None:
    """The season a day belongs to by the rule above (None only with no seasons at all)."""
    seasons = list(seasons)
    open_now = [s for s in seasons if is_open(s, day)]
    if open_now:
        return max(open_now, key=lambda s: (s.window_start, s.year))
    upcoming = [s for s in seasons if s.window_start > day]
    if upcoming:
        return min(upcoming, key=lambda s: (s.window_start, s.year))
    if seasons:
        return max(seasons, key=lambda s: (season_end(s), s.year))
    return None


def last_ended[S: SeasonLike](day: date, seasons: Iterable[S]) -> S | None:
    """The season whose last day was the latest before ``day`` (its final assessment is due)."""
    ended = [s for s in seasons if season_end(s) < day]
    return max(ended, key=lambda s: (season_end(s), s.year)) if ended else None


def benefit_year(day: date, seasons: Iterable[SeasonLike]) -> int:
    season = season_on(day, seasons)
    return season.year if season is not None else day.year + 1
