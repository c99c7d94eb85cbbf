"""Fill the publicity settings of policy years made before they existed from the seed fixtures
(fixtures/policies/*.json): a county's years all take its fixture's kind and schedule — the
demo's copies of a seed year included — where the setting is still blank (nothing else could
have set it). Counties without a fixture stay blank (the page says their plan sets none)."""

import json
from pathlib import Path

from django.conf import settings
from django.db import migrations

FIELDS = ("publicity_payers", "posting_due_months", "posting_every_months")


def fill(apps, schema_editor):
    PolicyYear = apps.get_model("subsidies", "PolicyYear")
    for path in sorted((Path(settings.BASE_DIR) / "fixtures" / "policies").glob("*.json")):
        seed = json.loads(path.read_text(encoding="utf-8"))
        if not seed.get("publicity_payers"):
            continue
        PolicyYear.objects.filter(county__code=seed["county"], publicity_payers="").update(**{f: seed.get(f) for f in FIELDS})


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0005_publicity_paid_kind")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
