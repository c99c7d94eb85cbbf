"""fixtures/sample_tax_filing.xlsx is a real demonstration: made from the demo roster (as `make demo`
seeds it), it finds its residents, shows every outcome, warns of a date outside the benefit year's
season, and every problem row has an owner (a township, or the county's list)."""

import io
import os
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from collections_app.models import TaxImportRow
from collections_app.tax_import import services as tax_services
from core.choices import RegionLevel, Role
from core.models import Region
from enrollment import demo, demo_data
from reporting import demo as season_demo
from reporting import demo_filing
from tests.factories import UserFactory

SAMPLE = Path(__file__).resolve().parents[3] / "fixtures" / "sample_tax_filing.xlsx"


@pytest.fixture
def demo_roster(db):
    """The demo county as `make demo` seeds it for the sample's benefit year."""
    call_command("load_localities", stdout=io.StringIO())
    county = Region.objects.get(code=demo_filing.COUNTY)
    season_demo.open_policy(county, demo_filing.YEAR)
    demo_data.seed_county(county=county, residents=demo_filing.RESIDENTS, year=demo_filing.YEAR)
    demo.ensure_demo_accounts()
    season_demo.take_demo_cash(county, demo_filing.YEAR)
    return county


def _cells(ws):
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def test_the_committed_sample_is_the_one_the_demo_roster_makes(demo_roster, tmp_path):
    """CANBAO_REGENERATE_SAMPLE=1 rewrites the committed file (after a change to the demo roster)."""
    if os.environ.get("CANBAO_REGENERATE_SAMPLE"):
        demo_filing.write_sample(SAMPLE)
    fresh = tmp_path / "sample.xlsx"
    demo_filing.write_sample(fresh)
    made = _cells(openpyxl.load_workbook(fresh).active)
    committed = _cells(openpyxl.load_workbook(SAMPLE).active)
    assert committed == made, "fixtures/sample_tax_filing.xlsx is stale: run `python manage.py demo_tax_filing` on the demo data"


def test_the_sample_previews_every_outcome_and_warns_of_the_late_date(demo_roster):
    tax = UserFactory(username="tax_demo", role=Role.TAX, region=demo_roster)
    with open(SAMPLE, "rb") as fh:
        ti = tax_services.tax_import_create(actor=tax, county=demo_roster, upload=fh, name="sample_tax_filing.xlsx", year=None)
    summary = tax_services.tax_import_preview(tax_import=ti)
    assert ti.year is None or ti.year == demo_filing.YEAR
    assert {k: summary[k] for k in demo_filing.EXPECTED} == demo_filing.EXPECTED
    assert summary["rows_outside_season"] == 1
    (row_warning,) = summary["date_warning_rows"]
    assert row_warning.startswith("第12行：缴费日期 2025年") and f"不在{demo_filing.YEAR}年度征缴期" in row_warning
    (file_warning,) = summary["date_warnings"]
    assert file_warning.startswith("有 1 行的缴费日期不在") and "按缴费日期应属" not in file_warning  # 2025's season: no policy there

    tax_services.tax_import_apply(actor=tax, tax_import=ti)
    rows = {r.row_number: r for r in TaxImportRow.objects.filter(tax_import=ti)}
    township = Region.objects.get(code=demo_filing.TOWNSHIP)
    assert {r.township_id for n, r in rows.items() if r.name != "吴春梅"} == {township.pk}
    (nowhere,) = [r for r in rows.values() if r.name == "吴春梅"]
    assert nowhere.township_id is None and nowhere.outcome == "unknown_person"

    # Its owner is the county's list: the bureau reads it, the township's list does not hold it.
    from collections_app.tax_import import selectors

    bureau = UserFactory(username="bureau_demo", role=Role.BUREAU, region=demo_roster)
    clerk = UserFactory(username="clerk_demo", role=Role.TOWNSHIP, region=township)
    assert list(selectors.township_problem_rows(user=bureau)) == [nowhere]
    assert nowhere not in selectors.township_problem_rows(user=clerk)
    assert selectors.township_problem_rows(user=clerk).count() == len(rows) - 1
    assert demo_roster.level == RegionLevel.COUNTY

    # The tax office is told where that row went.
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(tax)
    page = client.get(reverse("collections:taximport_detail", args=[ti.pk])).content.decode()
    assert "其中 1 行的“乡镇”“参保地”与本县任何乡镇、村都对不上，已列入县里的“税务导入问题 · 未归属乡镇”" in page
