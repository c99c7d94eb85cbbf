from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from ._base import RegionScopedQuerySet, money


class DailyLedger(models.Model):
    """A collector's confirmation of one day's cash ledger (台账当天核对)."""

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="收款人", on_delete=models.PROTECT, related_name="ledgers")
    region = models.ForeignKey("enrollment.Region", verbose_name="所属单位", on_delete=models.PROTECT, related_name="+")
    day = models.DateField("日期")
    receipt_count = models.PositiveIntegerField("凭证张数", default=0)
    total = money("合计")
    by_channel = models.JSONField("分方式合计", default=dict)
    cash_on_hand = money("应有库存现金")
    cash_counted = money("实点现金")
    note = models.CharField("说明", max_length=200, blank=True)
    confirmed_at = models.DateTimeField("确认时间")
    # A day confirmed again keeps each earlier confirmation (shown as 此前确认 on the ledger page).
    history = HistoricalRecords()

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "现金台账日结"
        verbose_name_plural = "现金台账日结"
        ordering = ["-day", "collector_id"]
        constraints = [models.UniqueConstraint(fields=["collector", "day"], name="ledger_collector_day_unique")]

    def __str__(self):
        return f"{self.collector} {self.day}"

    @property
    def difference(self):
        """What was counted minus what the ledger expected (negative: cash short)."""
        return self.cash_counted - self.cash_on_hand
