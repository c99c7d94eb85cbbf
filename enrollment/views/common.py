from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.choices import RegionLevel

from ..selectors import visible_region
from ..years import year_for

ERR_NO_CAPABILITY = "您的角色没有这项权限。"


def needs(capability):
    """login_required + a capability from CAPABILITIES (403 without it)."""

    def deco(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.can(capability):
                raise PermissionDenied(ERR_NO_CAPABILITY)
            return view(request, *args, **kwargs)

        return wrapper

    return deco


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
