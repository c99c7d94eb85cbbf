"""python manage.py demo_season --county 411325 --residents 3000 [--if-empty]

A running demo season for `make run` (see reporting/demo.py): the policy of the benefit year
being collected today, synthetic residents paying up to today, demo collectors' cash on hand,
and the season's snapshots, daily reports and weekly rankings.
"""

from django.core.management.base import BaseCommand, CommandError

from reporting import demo


class Command(BaseCommand):
    help = "Fill a county with a demo season running up to today (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="6-digit county code, e.g. 411325")
        parser.add_argument("--residents", type=int, required=True)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the county already has residents")

    def handle(self, *args, **opts):
        if opts["residents"] < 0:
            raise CommandError("--residents must be ≥ 0")
        try:
            result = demo.seed_season(
                county_code=opts["county"], residents=opts["residents"], if_empty=opts["if_empty"], stdout=self.stdout
            )
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if result is None:
            self.stdout.write(f"{opts['county']} 已有参保人，跳过演示数据。")
            return
        opened = "（复制种子政策开启）" if result.opened_policy else ""
        self.stdout.write(
            f"{result.county} {result.year}年度演示征缴期{opened}：参保人 {result.residents}，"
            f"演示协办员现金凭证 {result.receipts} 张，双限超限 {result.breaches} 人。"
        )
