"""python manage.py demo_tax_filing [--output fixtures/sample_tax_filing.xlsx] [--year 2027]

Rewrites the sample tax filing from the demo roster (run `make demo` first): see reporting/demo_filing.py.
"""

from django.core.management.base import BaseCommand, CommandError

from reporting import demo_filing


class Command(BaseCommand):
    help = "Write the sample tax filing from the demo roster (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--output", default="fixtures/sample_tax_filing.xlsx")
        parser.add_argument("--county", default=demo_filing.COUNTY)
        parser.add_argument("--year", type=int, default=demo_filing.YEAR)

    def handle(self, *args, output, county, year, **opts):
        try:
            n = demo_filing.write_sample(output, county_code=county, year=year)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已写入 {output}：{n} 行（{county}，{year}年度）。")
