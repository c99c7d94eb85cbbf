#!/usr/bin/env python
"""Benchmark: the roster (花名册) pages and API on a county of N residents (default 600,000).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/canbao_bench_roster .venv/bin/python bench/roster_pages.py [600000]

Seeds a throw-away county (code 419997, 16 townships, seed_demo's villages) into DATABASE_URL —
or, without it, into a temporary SQLite file, never the developer's db.sqlite3 — then prints
the time and the number of SQL queries of each roster request a clerk makes: a village's
roster, its second page, its gaps, a township-wide name search, a county-wide ID search, a
household page, the persons API, a village export and a village carry-over.
Claim: every page answers with a bounded number of queries (the same for any county size)
and well under a second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import setup  # noqa: E402

setup("canbao_bench_roster")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BENCH_COUNTY = "419997"
YEAR = 2025


def cleanup():
    from core.models import AuditEvent, Region, User
    from enrollment.models import Enrollment, Household, HouseholdNotice, Person, PersonIdentity
    from subsidies.models import PolicyYear

    def raw_delete(qs):
        qs._raw_delete(qs.db)

    with transaction.atomic():
        regions = list(Region.objects.filter(code__startswith=BENCH_COUNTY).values_list("pk", flat=True))
        villages = list(Region.objects.filter(parent__parent__code=BENCH_COUNTY).values_list("pk", flat=True))
        raw_delete(Enrollment.objects.filter(village_id__in=villages))
        raw_delete(PersonIdentity.objects.filter(person__household__village_id__in=villages))
        raw_delete(HouseholdNotice.objects.filter(household__village_id__in=villages))
        raw_delete(Person.objects.filter(household__village_id__in=villages))
        raw_delete(Household.objects.filter(village_id__in=villages))
        User.objects.filter(username__startswith="bench_roster").delete()
        AuditEvent.objects.filter(region_id__in=regions).delete()
        PolicyYear.objects.filter(county__code=BENCH_COUNTY).delete()
        Region.objects.filter(pk__in=villages).delete()
        Region.objects.filter(parent__code=BENCH_COUNTY).delete()
        Region.objects.filter(code=BENCH_COUNTY).delete()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("residents", nargs="?", type=int, default=600_000)
    parser.add_argument("--keep", action="store_true", help="leave the bench county in the database")
    args = parser.parse_args()

    from core.choices import RegionLevel, Role
    from core.models import Region, User
    from enrollment import demo_data, services
    from enrollment.models import Household, Person

    call_command("migrate", verbosity=0)
    cleanup()
    county = Region.objects.create(level=RegionLevel.COUNTY, code=BENCH_COUNTY, name="花名册基准县", is_demo=True)
    for i in range(1, 17):
        Region.objects.create(level=RegionLevel.TOWNSHIP, code=f"{BENCH_COUNTY}{i:03d}", name=f"基准乡镇{i:02d}",
                              parent=county, is_demo=True)
    t0 = time.perf_counter()
    seeded = demo_data.seed_county(county=county, residents=args.residents, year=YEAR, seed=11)
    print(f"[{connection.vendor}] seeded {args.residents:,} residents ({seeded.households:,} households) "
          f"in {time.perf_counter() - t0:.1f}s")

    town = Region.objects.filter(parent=county).order_by("code").first()
    village = Region.objects.filter(parent=town).order_by("code").first()
    bureau = User.objects.create(username="bench_roster_bureau", role=Role.BUREAU, region=county)
    clerk = User.objects.create(username="bench_roster_clerk", role=Role.TOWNSHIP, region=town)
    person = Person.objects.filter(household__village__parent__parent=county).order_by("-pk").first()
    household = Household.objects.filter(village=village).order_by("pk").first()
    in_village = Person.objects.filter(household__village=village).count()

    requests = [
        (clerk, "village roster, page 1", f"/roster/?village={village.pk}&year={YEAR}"),
        (clerk, "village roster, page 2", f"/roster/?village={village.pk}&year={YEAR}&page=2"),
        (clerk, "village gaps", f"/roster/?village={village.pk}&year={YEAR}&status=gap"),
        (clerk, "township name search", f"/roster/?year={YEAR}&q={person.name[:2]}"),
        (bureau, "county ID search (full number)", f"/roster/?year={YEAR}&q={person.id_number}"),
        (bureau, "county ID search (last 4)", f"/roster/?year={YEAR}&q={person.id_number[-4:]}"),
        (clerk, "household page", f"/households/{household.pk}/?year={YEAR}"),
        (clerk, "API persons, one village", f"/api/persons/?village={village.pk}&year={YEAR}"),
        (clerk, "API households, one village", f"/api/households/?village={village.pk}"),
        (clerk, "village export (xlsx)", f"/roster/export/?village={village.pk}&year={YEAR}"),
    ]
    print(f"village {village.name}: {in_village:,} residents")
    print(f"{'request':40} {'ms':>8} {'queries':>8} {'status':>7}")
    for user, label, url in requests:
        client = Client()
        client.force_login(user)
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            resp = client.get(url)
            ms = (time.perf_counter() - t0) * 1000
        print(f"{label:40} {ms:8.1f} {len(ctx.captured_queries):8d} {resp.status_code:7d}")
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        report = services.carry_over(actor=clerk, village=village, to_year=YEAR + 1)
    print(f"{'carry-over of the village':40} {(time.perf_counter() - t0) * 1000:8.1f} {len(ctx.captured_queries):8d}"
          f"  ({report.summary()})")
    if not args.keep:
        cleanup()


if __name__ == "__main__":
    main()
