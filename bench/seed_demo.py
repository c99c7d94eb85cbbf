"""Benchmark: seed_demo for N residents (default 600,000, a Neixiang-size county) on DATABASE_URL —
or, without it, a temporary SQLite file (never the developer's db.sqlite3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/canbao_bench .venv/bin/python bench/seed_demo.py 600000

Uses a throw-away county (code 419999) so it never touches real demo data: the county and
everything seeded into it are deleted afterwards. Prints rows/s and total time.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import setup  # noqa: E402

setup("canbao_bench_seed")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

BENCH_COUNTY = "419999"


def cleanup():
    """Remove the bench county and everything in it (raw deletes: no per-row history work)."""
    from core.models import AuditEvent, Region
    from enrollment.models import Enrollment, Household, Person, PersonIdentity

    def raw_delete(qs):
        qs._raw_delete(qs.db)

    with transaction.atomic():
        villages = list(Region.objects.filter(parent__parent__code=BENCH_COUNTY).values_list("pk", flat=True))
        raw_delete(Enrollment.objects.filter(village_id__in=villages))
        raw_delete(PersonIdentity.objects.filter(person__household__village_id__in=villages))
        raw_delete(Person.objects.filter(household__village_id__in=villages))
        raw_delete(Household.objects.filter(village_id__in=villages))
        county_ids = list(Region.objects.filter(code=BENCH_COUNTY).values_list("pk", flat=True))
        AuditEvent.objects.filter(object_type="enrollment.Region", object_id__in=[str(pk) for pk in county_ids]).delete()
        from subsidies.models import PolicyYear

        for policy in PolicyYear.objects.filter(county__code=BENCH_COUNTY):
            for cat in policy.categories.all():
                cat.amounts.all().delete()
            policy.categories.all().delete()
            policy.tiers.all().delete()
            policy.delete()
        Region.objects.filter(pk__in=villages).delete()
        Region.objects.filter(parent__code=BENCH_COUNTY).delete()
        Region.objects.filter(code=BENCH_COUNTY).delete()


def make_policy(county):
    """A small policy year (one tier, a universal and three personal subsidy categories), so the
    bench also writes subsidy identities and computes amounts."""
    from datetime import date
    from decimal import Decimal

    from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory, Tier

    policy = PolicyYear.objects.create(county=county, year=2025, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31))
    Tier.objects.create(policy=policy, number=1, name="一档", standard=Decimal("400.00"))
    for i, (code, name, amount, universal) in enumerate(
        [("all", "普通居民", "80.00", True), ("tekun", "特困人员", "400.00", False), ("dibao", "低保对象", "360.00", False), ("fanpin", "防返贫监测对象", "320.00", False)]
    ):
        cat = SubsidyCategory.objects.create(policy=policy, code=code, name=name, applies_to_all=universal, sort_order=i)
        CategorySubsidy.objects.create(category=cat, tier=1, amount=Decimal(amount))


def main():
    from core.choices import RegionLevel
    from core.models import Region
    from enrollment import demo_data

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600_000
    call_command("migrate", verbosity=0, run_syncdb=True)
    cleanup()
    county = Region.objects.create(level=RegionLevel.COUNTY, code=BENCH_COUNTY, name="基准测试县", is_demo=True)
    for i in range(1, 17):
        Region.objects.create(level=RegionLevel.TOWNSHIP, code=f"{BENCH_COUNTY}{i:03d}", name=f"基准乡镇{i:02d}", parent=county, is_demo=True)
    make_policy(county)
    t0 = time.perf_counter()
    result = demo_data.seed_county(county=county, residents=n, year=2025, seed=1)
    total = time.perf_counter() - t0
    vendor = connection.vendor
    cleanup()
    print(
        f"seed_demo [{vendor}] residents={n:,} households={result.households:,} enrollments={result.enrollments:,} "
        f"identities={result.identities:,} rows={result.rows:,} total={total:.1f}s "
        f"rows/s={result.rows / total:,.0f} residents/s={n / total:,.0f}"
    )


if __name__ == "__main__":
    main()
