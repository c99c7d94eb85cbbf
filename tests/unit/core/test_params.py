import pytest

from core.params import parse_year


@pytest.mark.parametrize("raw, year", [("2025", 2025), ("x", None), (None, None), ("1800", None), (" 2026 ", 2026)])
def test_parse_year(raw, year):
    assert parse_year(raw) == year
