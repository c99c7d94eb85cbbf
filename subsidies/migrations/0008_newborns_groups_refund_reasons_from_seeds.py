"""Fill the settings 0007 added, for policy years made before they existed, from the seed
fixtures (fixtures/policies/*.json): a county's years all take its fixture's value — the demo's
copies of a seed year included — where the setting still has its default (nothing else could
have set it). Counties without a fixture keep the defaults (the national rules)."""

import json
from pathlib import Path

from django.conf import settings
from django.db import migrations

DEFAULTS = {
    "newborn_prior_year": "window",
    "newborn_late_refused": False,
    "from_payment_groups": [],
    "welfare_child_from_entry": False,
    "refund_reasons": [],
}


def fill(apps, schema_editor):
    PolicyYear = apps.get_model("subsidies", "PolicyYear")
    for path in sorted((Path(settings.BASE_DIR) / "fixtures" / "policies").glob("*.json")):
        seed = json.loads(path.read_text(encoding="utf-8"))
        for field, default in DEFAULTS.items():
            value = seed.get(field, default)
            if value == default:
                continue
            for policy in PolicyYear.objects.filter(county__code=seed["county"]):
                if getattr(policy, field) == default:  # JSON fields are compared in Python
                    setattr(policy, field, value)
                    policy.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0007_newborns_groups_refund_reasons")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
