"""python manage.py import_tax_filing FILE --county CODE [--year YEAR] [--dry-run]

Imports a tax-office payment export (缴费/入库明细) and prints a JSON summary. The import is
recorded on the history page like a browser upload; --dry-run stops after the preview (it can
then be confirmed in the browser).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from core.choices import RegionLevel
from core.models import Region

from ...tax_import import services


class Command(BaseCommand):
    help = "导入税务局缴费/入库明细（xlsx 或 csv），输出 JSON 汇总。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--county", required=True, help="县/区区划代码，如 411325")
        parser.add_argument("--year", type=int, default=None, help="待遇年度（文件中没有年度列时使用）")
        parser.add_argument("--dry-run", action="store_true", help="只预检，不修改参保状态")

    def handle(self, *args, file, county, year, dry_run, **options):
        region = Region.objects.filter(code=county, level=RegionLevel.COUNTY).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {county} 的县/区。")
        try:
            with open(file, "rb") as fh:
                ti = services.tax_import_create(actor=None, county=region, upload=fh, name=file, year=year)
            if dry_run:
                summary = services.tax_import_preview(tax_import=ti)
            else:
                summary = services.tax_import_apply(actor=None, tax_import=ti, require_preview=False)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{file}") from None
        except services.ImportFailed as exc:
            self.stdout.write(json.dumps({"error": exc.message}, ensure_ascii=False))
            raise CommandError(exc.message) from None
        out = {"import_id": ti.pk, "file": ti.original_name, "county": region.code, "year": ti.year, **summary}
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
