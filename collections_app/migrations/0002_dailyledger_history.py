"""Daily ledgers keep their history: a day confirmed again keeps the earlier confirmation.
Ledgers confirmed before this migration get one history row each (as confirmed), so their
first re-confirmation does not lose them either."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def baseline_history(apps, schema_editor):
    DailyLedger = apps.get_model("collections_app", "DailyLedger")
    Historical = apps.get_model("collections_app", "HistoricalDailyLedger")
    fields = [f.attname for f in DailyLedger._meta.concrete_fields]
    rows = [
        Historical(**{f: getattr(ld, f) for f in fields}, history_date=ld.confirmed_at, history_type="+")
        for ld in DailyLedger.objects.all().iterator()
    ]
    Historical.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('collections_app', '0001_initial'),
        ('enrollment', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalDailyLedger',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('day', models.DateField(verbose_name='日期')),
                ('receipt_count', models.PositiveIntegerField(default=0, verbose_name='凭证张数')),
                ('total', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='合计')),
                ('by_channel', models.JSONField(default=dict, verbose_name='分方式合计')),
                ('cash_on_hand', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='应有库存现金')),
                ('cash_counted', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='实点现金')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='说明')),
                ('confirmed_at', models.DateTimeField(verbose_name='确认时间')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('collector', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='收款人')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('region', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='enrollment.region', verbose_name='所属单位')),
            ],
            options={
                'verbose_name': 'historical 现金台账日结',
                'verbose_name_plural': 'historical 现金台账日结',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(baseline_history, migrations.RunPython.noop),
    ]
