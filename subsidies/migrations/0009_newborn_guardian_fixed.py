"""Add PolicyYear.newborn_guardian_fixed and fill it, for years made before it existed, from the
seed fixtures (as 0008 does): a county's years take its fixture's value."""

import json
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    PolicyYear = apps.get_model("subsidies", "PolicyYear")
    for path in sorted((Path(settings.BASE_DIR) / "fixtures" / "policies").glob("*.json")):
        seed = json.loads(path.read_text(encoding="utf-8"))
        if seed.get("newborn_guardian_fixed"):
            PolicyYear.objects.filter(county__code=seed["county"]).update(newborn_guardian_fixed=True)


class Migration(migrations.Migration):

    dependencies = [
        ('subsidies', '0008_newborns_groups_refund_reasons_from_seeds'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalpolicyyear',
            name='newborn_guardian_fixed',
            field=models.BooleanField(default=False, help_text='石柱：法定监护人有多人参保缴费的，只能选择其中一人随同参保，一经选择不得变更', verbose_name='新生儿随同参保的监护人一经选择不得变更'),
        ),
        migrations.AddField(
            model_name='policyyear',
            name='newborn_guardian_fixed',
            field=models.BooleanField(default=False, help_text='石柱：法定监护人有多人参保缴费的，只能选择其中一人随同参保，一经选择不得变更', verbose_name='新生儿随同参保的监护人一经选择不得变更'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
