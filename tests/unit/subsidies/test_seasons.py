"""The one rule for the benefit year being worked on and the season's end (subsidies.seasons)."""

from datetime import date

import pytest

from subsidies.benefit import CoverRules as Season
from subsidies.seasons import benefit_year, last_ended, season_end, season_on

Y2026 = Season(2026, date(2025, 9, 1), date(2025, 12, 31))
Y2027 = Season(2027, date(2026, 9, 1), date(2026, 12, 31))
Y2027_EXT = Season(2027, date(2026, 9, 1), date(2026, 12, 31), date(2027, 2, 28))  # Shizhu: to the end of February
Y2028 = Season(2028, date(2027, 9, 1), date(2027, 12, 31))


@pytest.mark.parametrize(
    "today, seasons, year",
    [
        # No policy year at all: the next calendar year.
        (date(2026, 11, 22), [], 2027),
        (date(2026, 3, 1), [], 2027),
        # Inside the autumn window of benefit year 2027.
        (date(2026, 11, 22), [Y2027, Y2026], 2027),
        (date(2026, 9, 1), [Y2027, Y2026], 2027),  # the first day
        (date(2026, 12, 31), [Y2027, Y2026], 2027),  # the last day
        # In the extension (into the benefit year itself).
        (date(2027, 2, 10), [Y2027_EXT], 2027),
        (date(2027, 2, 28), [Y2027_EXT, Y2028], 2027),
        # Between seasons, the next one set up: the county is preparing it.
        (date(2027, 3, 1), [Y2027_EXT, Y2028], 2028),
        (date(2026, 7, 1), [Y2026, Y2027, Y2028], 2027),  # the next to open, not the latest set up
        # Between seasons, nothing set up yet: the season that ended last.
        (date(2026, 11, 22), [Season(2025, date(2024, 9, 1), date(2024, 12, 31)), Season(2024, date(2023, 9, 1), date(2023, 12, 31))], 2025),
        # Before the first season opens: that season.
        (date(2026, 5, 1), [Y2027], 2027),
    ],
)
def test_benefit_year(today, seasons, year):
    assert benefit_year(today, seasons) == year


def test_overlapping_seasons_take_the_one_started_last():
    long_extension = Season(2027, date(2026, 9, 1), date(2026, 12, 31), date(2027, 9, 30))
    assert season_on(date(2027, 9, 15), [long_extension, Y2028]) is Y2028
    assert season_on(date(2027, 8, 31), [long_extension, Y2028]) is long_extension


def test_season_end_is_the_extension_when_there_is_one():
    assert season_end(Y2027) == date(2026, 12, 31)
    assert season_end(Y2027_EXT) == date(2027, 2, 28)


def test_last_ended_is_due_its_final_assessment_even_with_the_next_set_up():
    assert last_ended(date(2027, 3, 1), [Y2026, Y2027_EXT, Y2028]) is Y2027_EXT
    assert last_ended(date(2027, 2, 28), [Y2027_EXT]) is None  # the last day is still inside
    assert last_ended(date(2026, 1, 1), []) is None
