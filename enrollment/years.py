"""Which benefit year (待遇年度) a page works on.

During the autumn collection the benefit year is the next calendar year (collected in 2026 for
2027). The county's policy years say it best: the latest one whose collection window (or its
extension) contains today; else the latest one set up; else next calendar year.
Every page also accepts ``?year=`` to switch.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from core.params import parse_year
from subsidies.models import PolicyYear


def year_from_window(today: date, windows) -> int:
    """Pure rule. ``windows``: (year, window_start, window_end, extension_end or None) tuples."""
    windows = list(windows)
    open_now = [y for y, start, end, ext in windows if start <= today <= (ext or end)]
    if open_now:
        return max(open_now)
    if windows:
        return max(y for y, *_ in windows)
    return today.year + 1


def current_benefit_year(county, today: date | None = None) -> int:
    today = today or timezone.localdate()
    if county is None:
        return today.year + 1
    rows = PolicyYear.objects.filter(county=county).values_list("year", "window_start", "window_end", "extension_end")
    return year_from_window(today, rows)


def year_for(request, county=None) -> int:
    """``?year=`` when it is a sensible year, else the county's current benefit year."""
    year = parse_year(request.GET.get("year")) if request is not None else None
    if year is not None:
        return year
    if county is None and request is not None and getattr(request.user, "region_id", None):
        county = request.user.county
    return current_benefit_year(county)
