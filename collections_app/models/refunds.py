from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.scoping import ScopedManager
from subsidies.choices import RefundReason

from ..choices import RefundStatus
from ._base import money


class Refund(models.Model):
    """A refund application (退费): evidence, bureau approval, paid by the tax office."""

    enrollment = models.ForeignKey("enrollment.Enrollment", verbose_name="年度参保", on_delete=models.PROTECT, related_name="refunds")
    village = models.ForeignKey("enrollment.Region", verbose_name="村/社区", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("退费原因", max_length=20, choices=RefundReason.choices)
    amount = money("退费金额")
    status = models.CharField("状态", max_length=12, choices=RefundStatus.choices, default=RefundStatus.APPLIED)
    evidence = models.FileField("证明材料", upload_to="refunds/%Y/%m/", blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    source = models.CharField("发现来源", max_length=100, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField("申请时间", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=300, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="退付人", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField("退付日期", null=True, blank=True)
    paid_voucher = models.CharField("退付凭证号", max_length=50, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "退费"
        verbose_name_plural = "退费"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
            models.UniqueConstraint(
                fields=["enrollment", "reason"],
                condition=~Q(status__in=[RefundStatus.REJECTED]),
                name="refund_one_open_per_enrollment_reason",
            ),
        ]

    def __str__(self):
        return f"{self.enrollment.person.name} {self.get_reason_display()} {self.amount}"
