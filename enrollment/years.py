"""Which benefit year (待遇年度) a page works on: ``?year=`` when it is a sensible year, else the
county's current one by the one rule in `subsidies.seasons` (asked through
`subsidies.selectors.benefit_year`)."""

from __future__ import annotations

from core.params import parse_year
from subsidies.selectors import benefit_year


def year_for(request, county=None) -> int:
    year = parse_year(request.GET.get("year")) if request is not None else None
    if year is not None:
        return year
    if county is None and request is not None and getattr(request.user, "region_id", None):
        county = request.user.county
    return benefit_year(county)
