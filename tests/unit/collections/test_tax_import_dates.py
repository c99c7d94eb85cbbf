"""tax_import.dates: payment dates outside the benefit year's season are warned, per row and per file."""

from dataclasses import dataclass
from datetime import date

from collections_app.tax_import.dates import DateFit


@dataclass(frozen=True)
class Season:
    year: int
    window_start: date
    window_end: date
    extension_end: date | None = None


S2025 = Season(2025, date(2024, 9, 1), date(2024, 12, 31))
S2027 = Season(2027, date(2026, 9, 1), date(2026, 12, 31), date(2027, 2, 28))
POLICIES = {2025: S2025, 2027: S2027}


def fit():
    return DateFit(POLICIES.get, POLICIES.values())


def test_dates_inside_the_season_and_its_extension_say_nothing():
    f = fit()
    for day in (date(2026, 9, 1), date(2026, 12, 31), date(2027, 2, 28)):
        f.check(5, 2027, day)
    f.check(6, 2027, None)  # no date: nothing to compare
    f.check(7, 2031, date(2020, 1, 1))  # no policy for the year: nothing to compare with
    assert f.summary() == {"date_warnings": [], "date_warning_rows": [], "rows_outside_season": 0}


def test_a_file_of_last_years_dates_is_warned_row_by_row_and_named_its_year():
    f = fit()
    f.check(4, 2027, date(2024, 10, 5))
    f.check(5, 2027, date(2024, 10, 5))
    f.check(6, 2027, date(2026, 10, 5))
    out = f.summary()
    assert out["rows_outside_season"] == 2
    assert out["date_warning_rows"][0] == "第4行：缴费日期 2024年10月5日 不在2027年度征缴期（2026年9月1日至2027年2月28日）内。"
    assert out["date_warnings"] == [
        "有 2 行的缴费日期不在2027年度征缴期（2026年9月1日至2027年2月28日）内，按缴费日期应属2025年度。"
    ]


def test_rows_listed_are_capped_the_count_is_not():
    f = fit()
    for n in range(80):
        f.check(n, 2027, date(2026, 3, 1))
    out = f.summary()
    assert out["rows_outside_season"] == 80 and len(out["date_warning_rows"]) == 50
