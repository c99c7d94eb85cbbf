"""Whether a filing's payment dates fit the benefit year it is imported into.

A payment for benefit year Y is made in Y's collection season (window start … extension end,
``subsidies.seasons``); a file whose dates fall outside it was most likely exported for another
year, or uploaded with the wrong year chosen. Such rows are still decided as usual (a late or
mid-year payment is legitimate); they are said per row and for the file, so the tax office checks
before confirming. The season and the year a date belongs to come from the policy kernel."""

from __future__ import annotations

from collections import Counter
from datetime import date

from subsidies import seasons

WARN_ROW = "第{row}行：缴费日期 {day} 不在{year}年度征缴期（{start}至{end}）内。"
WARN_FILE = "有 {n} 行的缴费日期不在{year}年度征缴期（{start}至{end}）内{hint}。"
WARN_BEFORE_CONFIRM = "请核对文件和所选的待遇年度后再确认导入。"  # said on the page while it can still be confirmed
WARN_FILE_HINT = "，按缴费日期应属{other}年度"
ROWS_LISTED = 50  # rows named one by one; the count covers them all


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class DateFit:
    """Collects the rows whose payment date (else treasury date) lies outside their benefit
    year's season. ``policy(year)`` gives the PolicyYear (None: no season to compare with);
    ``policies`` every policy year of the county (to name the year the dates belong to)."""

    def __init__(self, policy, policies):
        self._policy = policy
        self._policies = list(policies)
        self._cache: dict[int, object] = {}
        self.rows: list[str] = []
        self.outside: Counter = Counter()  # year → rows outside its season
        self.days: dict[int, Counter] = {}  # year → the dates outside, to name their year

    def check(self, row_number: int, year: int | None, day: date | None) -> None:
        if year is None or day is None:
            return
        if year not in self._cache:
            self._cache[year] = self._policy(year)
        season = self._cache[year]
        if season is None or seasons.is_open(season, day):
            return
        self.outside[year] += 1
        self.days.setdefault(year, Counter())[day] += 1
        if len(self.rows) < ROWS_LISTED:
            self.rows.append(
                WARN_ROW.format(row=row_number, day=_day(day), year=year, start=_day(season.window_start), end=_day(seasons.season_end(season)))
            )

    def file_warnings(self) -> list[str]:
        out = []
        for year, n in sorted(self.outside.items()):
            season = self._cache[year]
            common = self.days[year].most_common(1)[0][0]
            open_then = [p for p in self._policies if seasons.is_open(p, common)]
            other = seasons.season_on(common, open_then).year if open_then else None
            hint = WARN_FILE_HINT.format(other=other) if other and other != year else ""
            out.append(WARN_FILE.format(n=n, year=year, start=_day(season.window_start), end=_day(seasons.season_end(season)), hint=hint))
        return out

    def summary(self) -> dict:
        return {"date_warnings": self.file_warnings(), "date_warning_rows": self.rows, "rows_outside_season": sum(self.outside.values())}
