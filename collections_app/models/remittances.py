from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ._base import RegionScopedQuerySet, money


class Remittance(models.Model):
    """Cash deposited to the township / tax account (报解), and the receipts it covers."""

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="收款人", on_delete=models.PROTECT, related_name="remittances")
    region = models.ForeignKey("enrollment.Region", verbose_name="所属单位", on_delete=models.PROTECT, related_name="+")
    deposited_on = models.DateField("解缴日期")
    amount = money("解缴金额")
    slip_number = models.CharField("银行回单号", max_length=50)
    covered = money("所含凭证金额")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报解"
        verbose_name_plural = "报解"
        ordering = ["-deposited_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_amount_positive")]

    def __str__(self):
        return f"{self.slip_number} {self.amount}"

    @property
    def difference(self):
        return self.amount - self.covered


class DoubleLimitBreach(models.Model):
    """A collector holding cash beyond the double limit, as last seen by the hourly check."""

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="收款人", on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("enrollment.Region", verbose_name="所属单位", on_delete=models.PROTECT, related_name="+")
    first_seen = models.DateTimeField("发现时间")
    last_seen = models.DateTimeField("最近检查")
    amount = money("未解缴现金")
    oldest = models.DateField("最早收款日期")
    days_overdue = models.PositiveIntegerField("超期天数", default=0)
    over_amount = models.BooleanField("超额度", default=False)
    over_days = models.BooleanField("超期限", default=False)
    resolved_at = models.DateTimeField("解除时间", null=True, blank=True)

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "双限超限记录"
        verbose_name_plural = "双限超限记录"
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["collector"], condition=Q(resolved_at__isnull=True), name="breach_one_open_per_collector"
            )
        ]
