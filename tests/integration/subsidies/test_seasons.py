"""The one benefit-year rule over real policy years (the pure rule: tests/unit/subsidies/test_seasons.py)."""

from datetime import date

import pytest

from subsidies import selectors
from tests.factories import CountyFactory
from tests.factories.subsidies import PolicyYearFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def county():
    c = CountyFactory(code="500240", name="石柱县")
    # Shizhu: the window to the end of the year, an extension to the end of February.
    PolicyYearFactory(county=c, year=2025, extension_end=date(2025, 2, 28))
    return c


@pytest.mark.parametrize(
    "day, year",
    [
        (date(2024, 10, 1), 2025),  # in the window
        (date(2025, 2, 10), 2025),  # in the extension, inside the benefit year itself
        (date(2025, 6, 1), 2025),  # between seasons with nothing newer: the last word
    ],
)
def test_benefit_year_and_season(county, day, year):
    assert selectors.benefit_year(county, day) == year
    assert selectors.season_of(county, day).year == year


def test_next_season_once_it_is_set_up(county):
    PolicyYearFactory(county=county, year=2026)
    assert selectors.benefit_year(county, date(2025, 6, 1)) == 2026
    assert selectors.season_of(county, date(2025, 2, 10)).year == 2025  # the extension still runs


def test_no_policy_is_next_year():
    c = CountyFactory()
    assert selectors.season_of(c, date(2026, 3, 1)) is None
    assert selectors.benefit_year(c, date(2026, 3, 1)) == 2027
    assert selectors.benefit_year(None, date(2026, 3, 1)) == 2027


def test_every_county_in_one_query(county, django_assert_num_queries):
    other = CountyFactory()
    PolicyYearFactory(county=other, year=2026)
    with django_assert_num_queries(1):
        on = {p.county.code: p.year for p in selectors.seasons_on(date(2025, 2, 10))}
    assert on == {county.code: 2025, other.code: 2026}
    assert [p.year for p in selectors.seasons_last_ended(date(2025, 3, 1))] == [2025]
