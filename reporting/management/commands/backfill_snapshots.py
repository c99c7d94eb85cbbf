"""python manage.py backfill_snapshots --county 411325 [--year 2025] [--from 2024-09-01] [--to 2024-12-31] [--if-empty]

Rebuild a county's past season from the dates on its enrollments (paid_on, declared_on,
confirmed_on, refunded_on): one snapshot per day, the daily reports the policy asks for, the
weekly rankings on the county's ranking days (so ranks move and interview flags appear), and
the final assessment once the season is over. Idempotent: re-running replaces the same days.
"""

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.choices import RegionLevel
from core.models import Region
from reporting import figures, metrics, services
from reporting.models import ProgressSnapshot
from subsidies.models import PolicyYear
from subsidies.seasons import season_end

ERR_NO_COUNTY = "“{code}”不是已载入的县/区代码。"
ERR_NO_POLICY = "{county}没有{year}年度征缴政策（先运行 load_localities）。"


class Command(BaseCommand):
    help = "Build past daily snapshots, daily reports, weekly rankings and the final assessment of a county."

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True)
        parser.add_argument("--year", type=int, default=None, help="benefit year (default: the county's latest policy year)")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, default=None)
        parser.add_argument("--to", dest="end", type=date.fromisoformat, default=None)
        parser.add_argument("--no-reports", action="store_true", help="snapshots and rankings only")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the county already has snapshots of that year")

    @transaction.atomic  # one commit for the whole season (and all or nothing)
    def handle(self, *args, **opts):
        county = Region.objects.filter(code=opts["county"], level=RegionLevel.COUNTY).first()
        if county is None:
            raise CommandError(ERR_NO_COUNTY.format(code=opts["county"]))
        policies = PolicyYear.objects.filter(county=county)
        policy = policies.filter(year=opts["year"]).first() if opts["year"] else policies.order_by("-year").first()
        if policy is None:
            raise CommandError(ERR_NO_POLICY.format(county=county.name, year=opts["year"] or ""))
        if opts["if_empty"] and ProgressSnapshot.objects.filter(region=county, year=policy.year).exists():
            self.stdout.write(f"{county.name}{policy.year}年度已有进度快照，跳过。")
            return
        today = services.local_today()
        end_of_season = season_end(policy)
        start = opts["start"] or policy.window_start
        end = min(opts["end"] or end_of_season, today)
        first_ranking = policy.weekly_reports_from or policy.window_start
        started = time.monotonic()
        days = snapshots = rankings = dailies = 0
        # Data quality is not dated: count it once for the whole backfill.
        quality = figures.quality_figures(village_ids=[v.pk for v in figures.region_tree(county)[2]], year=policy.year)
        day = start
        while day <= end:
            snapshots += services.snapshot_take(county=county, day=day, year=policy.year, quality=quality)
            if not opts["no_reports"] and (policy.daily_reports_from is None or day >= policy.daily_reports_from):
                services.daily_report_publish(county=county, day=day)
                dailies += 1
            if metrics.is_ranking_day(day, weekday=policy.ranking_weekday, every_days=policy.ranking_every_days, first=first_ranking):
                if opts["no_reports"]:
                    services.ranking_take(county=county, day=day)
                else:
                    services.weekly_report_publish(county=county, day=day)
                rankings += 1
            days += 1
            day += timedelta(days=1)
        final = ""
        if not opts["no_reports"] and end >= end_of_season:
            report = services.final_assessment_publish(county=county, year=policy.year, day=end_of_season)
            final = f"，考核结果：{report.title}"
        self.stdout.write(
            f"{county.name}{policy.year}年度：{start}…{end} 共 {days} 天，快照 {snapshots} 行，日报 {dailies} 份，"
            f"排名 {rankings} 次{final}；用时 {time.monotonic() - started:.1f} 秒。"
        )
