"""python manage.py seed_demo --county 411325 --residents 3000 [--year 2025] [--if-empty] [--seed 42]"""

from django.core.management.base import BaseCommand, CommandError

from enrollment import demo_data


class Command(BaseCommand):
    help = "Fill a county with synthetic demo households, residents, enrollments and subsidy identities."

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="6-digit county code, e.g. 411325")
        parser.add_argument("--residents", type=int, required=True)
        parser.add_argument("--year", type=int, default=2025, help="benefit year (default 2025)")
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: derived from county and year)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the county already has residents")

    def handle(self, *args, **opts):
        try:
            county = demo_data.get_county(opts["county"])
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if opts["residents"] < 0:
            raise CommandError("--residents must be ≥ 0")
        if opts["if_empty"] and demo_data.county_has_persons(county):
            self.stdout.write(f"{county.name}已有参保人，跳过演示数据。")
            return
        verbose = opts["verbosity"] >= 2

        def progress(r):
            if verbose:
                self.stdout.write(f"  … {r.persons} 人")

        result = demo_data.seed_county(
            county=county, residents=opts["residents"], year=opts["year"], seed=opts["seed"], progress=progress
        )
        statuses = ", ".join(f"{k}={v}" for k, v in sorted(result.by_status.items()))
        self.stdout.write(
            f"{county.name} {result.year}年度演示数据：新建演示村 {result.villages_created} 个，"
            f"户 {result.households}，人 {result.persons}，年度参保 {result.enrollments}（{statuses}），"
            f"资助身份 {result.identities}；{result.rows} 行，用时 {result.seconds:.1f} 秒"
            f"（{result.rows / max(result.seconds, 1e-9):,.0f} 行/秒）。"
        )
