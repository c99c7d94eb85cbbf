#!/usr/bin/env python
"""Benchmark: dashboards and report jobs for a county of N residents (default 600,000).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/canbao_bench_reporting .venv/bin/python bench/reporting_dashboard.py [600000] [--days 14]

Seeds a throw-away county (code 419998, 16 townships, seed_demo's villages and season) into
DATABASE_URL — or, without it, into a temporary SQLite file, never the developer's db.sqlite3 —
then prints the time of each job (one daily snapshot, the daily report, a weekly ranking, the
final assessment, a backfill of --days days) and of each dashboard, report and API request,
with its number of SQL queries. The county is deleted afterwards.
Claim: every dashboard/ranking request answers from snapshots in well under a second with a
bounded number of queries, whatever the number of residents.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import setup  # noqa: E402

setup("canbao_bench_reporting")

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BENCH_COUNTY = "419998"
DAY = date(2024, 11, 15)  # a Friday in the season: the county's ranking day


def cleanup():
    from core.models import AuditEvent, Region, User
    from enrollment.models import Enrollment, Household, Person, PersonIdentity
    from reporting.models import ProgressSnapshot, Ranking, Report, WeeklyNote
    from subsidies.models import PolicyYear

    def raw_delete(qs):
        qs._raw_delete(qs.db)

    with transaction.atomic():
        regions = list(
            Region.objects.filter(code__startswith=BENCH_COUNTY).values_list("pk", flat=True)
        )
        villages = list(Region.objects.filter(parent__parent__code=BENCH_COUNTY).values_list("pk", flat=True))
        raw_delete(ProgressSnapshot.objects.filter(region_id__in=regions))
        Ranking.objects.filter(county__code=BENCH_COUNTY).delete()
        Report.objects.filter(county__code=BENCH_COUNTY).delete()
        WeeklyNote.objects.filter(township__parent__code=BENCH_COUNTY).delete()
        raw_delete(Enrollment.objects.filter(village_id__in=villages))
        raw_delete(PersonIdentity.objects.filter(person__household__village_id__in=villages))
        raw_delete(Person.objects.filter(household__village_id__in=villages))
        raw_delete(Household.objects.filter(village_id__in=villages))
        User.objects.filter(username__startswith="bench_reporting").delete()
        AuditEvent.objects.filter(region_id__in=regions).delete()
        PolicyYear.objects.filter(county__code=BENCH_COUNTY).delete()
        Region.objects.filter(pk__in=villages).delete()
        Region.objects.filter(parent__code=BENCH_COUNTY).delete()
        Region.objects.filter(code=BENCH_COUNTY).delete()


def timed(label, fn, rows):
    t0 = time.perf_counter()
    result = fn()
    rows.append((label, time.perf_counter() - t0, None))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("residents", nargs="?", type=int, default=600_000)
    parser.add_argument("--days", type=int, default=14, help="days of backfill to time (builds the trend)")
    parser.add_argument("--keep", action="store_true", help="leave the bench county in the database")
    args = parser.parse_args()

    from core.choices import RegionLevel, Role
    from core.models import Region, RegionQuota, User
    from enrollment import demo_data
    from reporting import figures, services
    from reporting.models import Report
    from subsidies.models import PolicyYear, PrizeGrade

    call_command("migrate", verbosity=0)
    cleanup()
    county = Region.objects.create(level=RegionLevel.COUNTY, code=BENCH_COUNTY, name="基准测试县", is_demo=True)
    for i in range(1, 17):
        town = Region.objects.create(
            level=RegionLevel.TOWNSHIP, code=f"{BENCH_COUNTY}{i:03d}", name=f"基准乡镇{i:02d}", parent=county, is_demo=True
        )
        RegionQuota.objects.create(region=town, year=2025, base_task=args.residents // 16 * 95 // 100)
    policy = PolicyYear.objects.create(
        county=county, year=2025, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31), ranking_weekday=5,
        work_fund_per_person=Decimal("1.50"), prize_pool=Decimal("300000.00"),
    )
    for rank, name, count, amount in [(1, "一等奖", 1, 30000), (2, "二等奖", 1, 20000), (3, "三等奖", 2, 10000)]:
        PrizeGrade.objects.create(policy=policy, rank=rank, name=name, count=count, amount=Decimal(amount))
    t0 = time.perf_counter()
    seeded = demo_data.seed_county(county=county, residents=args.residents, year=2025, seed=7)
    seed_s = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        # A county's tables carry statistics (autovacuum analyzes them); a table bulk-loaded a
        # moment ago has none yet, and the planner would scan all persons for one village.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"[{connection.vendor}] seeded {args.residents:,} residents ({seeded.households:,} households, "
          f"{seeded.enrollments:,} enrollments) in {seed_s:.1f}s")

    jobs: list = []
    # A backfill of --days days before DAY (the trend), then the jobs of DAY itself.
    start = DAY - timedelta(days=args.days)
    def backfill():  # as manage.py backfill_snapshots does it: data quality counted once
        village_ids = [v.pk for v in figures.region_tree(county)[2]]
        with transaction.atomic():
            quality = figures.quality_figures(village_ids=village_ids, year=2025)
            day = start
            while day < DAY:
                services.snapshot_take(county=county, day=day, year=2025, quality=quality)
                day += timedelta(days=1)
    timed(f"backfill {args.days} days of snapshots", backfill, jobs)
    timed("daily snapshot (one day, whole county)", lambda: services.snapshot_take(county=county, day=DAY, year=2025), jobs)
    timed("daily snapshot re-run (same day, replaces)", lambda: services.snapshot_take(county=county, day=DAY, year=2025), jobs)
    timed("daily report publish", lambda: services.daily_report_publish(county=county, day=DAY), jobs)
    timed("weekly ranking + report", lambda: services.weekly_report_publish(county=county, day=DAY), jobs)
    timed("final assessment", lambda: services.final_assessment_publish(county=county, year=2025, day=DAY), jobs)

    bureau = User.objects.create(username="bench_reporting_bureau", role=Role.BUREAU, region=county)
    town = Region.objects.filter(parent=county).order_by("code").first()
    village = Region.objects.filter(parent=town).order_by("code").first()
    # Today's figures (reporting.current): the first read of the day recomputes the county; then
    # a refresh recomputes only the villages that changed since the last one.
    from enrollment.models import Enrollment
    from reporting import current

    timed("today's figures: first refresh of the day (full)", lambda: current.refresh(county=county, year=2025, day=DAY), jobs)
    timed("today's figures: refresh, nothing changed", lambda: current.refresh(county=county, year=2025, day=DAY), jobs)
    paid = list(Enrollment.objects.filter(village__parent=town, year=2025, status="pending").order_by("village_id", "id")[:20])
    for e in paid:  # twenty payments in one township, with their history rows as a service writes them
        e.status, e.paid_on = "paid", DAY
        e.save()
    changed = len({e.village_id for e in paid})
    timed(f"today's figures: township refresh after 20 payments ({changed} villages)", lambda: current.refresh(county=county, year=2025, day=DAY, region=town), jobs)
    timed("today's figures: county refresh, nothing changed", lambda: current.refresh(county=county, year=2025, day=DAY), jobs)
    weekly = Report.objects.get(county=county, kind="weekly", date=DAY)
    client = Client()
    client.force_login(bureau)
    d = DAY.isoformat()
    requests = [
        ("county dashboard", f"/progress/?region={county.code}&date={d}"),
        ("township dashboard", f"/progress/?region={town.code}&date={d}"),
        ("village dashboard", f"/progress/?region={village.code}&date={d}"),
        ("special groups missing (township)", f"/progress/special/?region={town.code}"),
        ("report list", "/reports/"),
        ("weekly ranking report", f"/reports/{weekly.pk}/"),
        ("weekly ranking xlsx", f"/reports/{weekly.pk}/xlsx/"),
        ("API progress (county)", f"/api/reports/progress/?region={county.code}&date={d}"),
        ("API rankings", f"/api/reports/rankings/?county={county.code}&date={d}"),
    ]
    pages = []
    client.get(requests[0][1])  # warm caches (templates, statics)
    for label, url in requests:
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            resp = client.get(url)
            elapsed = time.perf_counter() - t0
        assert resp.status_code == 200, (url, resp.status_code)
        pages.append((label, elapsed, len(ctx.captured_queries)))

    # Today's dashboards: "today" is DAY, so the pages read the figures kept current.
    services.local_today = lambda: DAY
    today_pages = []
    for label, url in [
        ("today: county dashboard", f"/progress/?region={county.code}"),
        ("today: township dashboard", f"/progress/?region={town.code}"),
        ("today: village dashboard", f"/progress/?region={village.code}"),
        ("today: API progress (county)", f"/api/reports/progress/?region={county.code}"),
    ]:
        times = []
        for _ in range(15):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                resp = client.get(url)
                times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (url, resp.status_code)
        times.sort()
        today_pages.append((label, times[len(times) // 2], times[-1], len(ctx.captured_queries)))

    print(f"\njobs ({args.residents:,} residents, {Region.objects.filter(parent__parent=county).count()} villages):")
    for label, s, _ in jobs:
        print(f"  {label:45s} {s * 1000:9.0f} ms")
    print("\nrequests (time, SQL queries):")
    for label, s, q in pages:
        print(f"  {label:45s} {s * 1000:9.0f} ms  {q:3d} queries")
    print("\ntoday's dashboards, 15 requests each, one client (median, max, SQL queries; target median <= 100 ms):")
    for label, med, worst, q in today_pages:
        print(f"  {label:45s} {med * 1000:7.0f} ms  max {worst * 1000:6.0f} ms  {q:3d} queries  {'OK' if med <= 0.1 else 'MISSED'}")
    print(f"\nload average (1, 5, 15 min): {os.getloadavg()}")
    if not args.keep:
        cleanup()


if __name__ == "__main__":
    main()
