"""Add PolicyYear.posting_after_window and fill it, for years made before it existed, from the
seed fixtures (as 0008 does): a county's years take its fixture's value."""

import json
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    PolicyYear = apps.get_model("subsidies", "PolicyYear")
    for path in sorted((Path(settings.BASE_DIR) / "fixtures" / "policies").glob("*.json")):
        seed = json.loads(path.read_text(encoding="utf-8"))
        if seed.get("posting_after_window"):
            PolicyYear.objects.filter(county__code=seed["county"]).update(posting_after_window=True)


class Migration(migrations.Migration):

    dependencies = [
        ('subsidies', '0009_newborn_guardian_fixed'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalpolicyyear',
            name='posting_after_window',
            field=models.BooleanField(default=False, help_text='内乡：集中征缴结束后……将税务部门反馈的已缴费人员清册在村张榜公示', verbose_name='集中征缴期结束后才公示'),
        ),
        migrations.AddField(
            model_name='policyyear',
            name='posting_after_window',
            field=models.BooleanField(default=False, help_text='内乡：集中征缴结束后……将税务部门反馈的已缴费人员清册在村张榜公示', verbose_name='集中征缴期结束后才公示'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
