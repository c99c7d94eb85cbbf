from core.choices import RegionLevel

from ..selectors import visible_region
from ..years import year_for


def picked_regions(request):
    """(township, village) the page works on: a collector's own village, else what was picked."""
    user = request.user
    region = user.region
    params = request.POST if request.method == "POST" else request.GET
    if region is not None and region.level == RegionLevel.VILLAGE:
        return region.parent, region
    village = visible_region(user, params.get("village"), RegionLevel.VILLAGE)
    if village is not None:
        return village.parent, village
    if region is not None and region.level == RegionLevel.TOWNSHIP:
        return region, None
    return visible_region(user, params.get("township"), RegionLevel.TOWNSHIP), None


def page_year(request, region=None):
    county = region.county if region is not None else None
    return year_for(request, county)
