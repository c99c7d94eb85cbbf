"""Load the seed localities (fixtures/localities.json): regions and their quotas. Idempotent."""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .choices import RegionLevel
from .models import Region, RegionQuota

LOCALITIES_FILE = Path(settings.BASE_DIR) / "fixtures" / "localities.json"


def _upsert(level, node, parent, order):
    region, _ = Region.objects.update_or_create(
        code=node["code"],
        defaults={
            "level": level,
            "name": node["name"],
            "parent": parent,
            "sort_order": order,
            "is_demo": node.get("is_demo", False),
        },
    )
    for year, figures in node.get("quotas", {}).items():
        RegionQuota.objects.update_or_create(region=region, year=int(year), defaults=figures)
    return region


@transaction.atomic
def load_localities(path: Path = LOCALITIES_FILE) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    counts = {"counties": 0, "townships": 0, "villages": 0}
    for ci, county_node in enumerate(data["counties"], 1):
        county = _upsert(RegionLevel.COUNTY, county_node, None, ci)
        counts["counties"] += 1
        for ti, town_node in enumerate(county_node.get("townships", []), 1):
            town = _upsert(RegionLevel.TOWNSHIP, town_node, county, ti)
            counts["townships"] += 1
            for vi, village_node in enumerate(town_node.get("villages", []), 1):
                _upsert(RegionLevel.VILLAGE, village_node, town, vi)
                counts["villages"] += 1
    return counts
