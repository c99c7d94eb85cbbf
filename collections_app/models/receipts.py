"""Receipts (收款凭证): numbered per county and year, never deleted or edited, only voided."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.scoping import ScopedManager

from ..choices import RECEIPT_CHANNELS, ReceiptStatus
from ._base import money


class ReceiptCounter(models.Model):
    """The last number issued in one county for one benefit year; locked while issuing."""

    county = models.ForeignKey("enrollment.Region", verbose_name="县/区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("待遇年度")
    last_number = models.PositiveIntegerField("已用号码", default=0)

    class Meta:
        verbose_name = "收据号段"
        verbose_name_plural = "收据号段"
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="receipt_counter_county_year_unique")]

    def __str__(self):
        return f"{self.county_id} {self.year}: {self.last_number}"


class Receipt(models.Model):
    number = models.CharField("凭证号", max_length=30, unique=True)
    county = models.ForeignKey("enrollment.Region", verbose_name="县/区", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("enrollment.Region", verbose_name="村/社区", on_delete=models.PROTECT, related_name="receipts")
    household = models.ForeignKey("enrollment.Household", verbose_name="户", on_delete=models.PROTECT, related_name="receipts")
    year = models.PositiveIntegerField("待遇年度")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收款人", on_delete=models.PROTECT, related_name="receipts"
    )
    payer_name = models.CharField("交款人", max_length=50)
    channel = models.CharField("缴费方式", max_length=20, choices=RECEIPT_CHANNELS)
    total = money("金额")
    issued_at = models.DateTimeField("开票时间")
    issued_on = models.DateField("收款日期", db_index=True)
    status = models.CharField("状态", max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.VALID)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="作废人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    remittance = models.ForeignKey(
        "collections_app.Remittance", verbose_name="报解单", null=True, blank=True,
        on_delete=models.PROTECT, related_name="receipts",
    )
    # The desk's confirmation form carries a fresh key: the same form submitted again finds the
    # receipt it already issued instead of taking the money twice (cash.services.receipt_issue).
    request_key = models.CharField("提交标识", max_length=64, blank=True, default="", editable=False)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "收款凭证"
        verbose_name_plural = "收款凭证"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="receipt_total_not_negative"),
            models.CheckConstraint(
                condition=Q(status=ReceiptStatus.VALID) | ~Q(void_reason=""), name="receipt_void_has_reason"
            ),
            models.UniqueConstraint(
                fields=["request_key"], condition=~Q(request_key=""), name="receipt_request_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["collector", "status", "channel"], name="receipt_collector_idx")]

    def __str__(self):
        return self.number

    @property
    def is_voided(self) -> bool:
        return self.status == ReceiptStatus.VOIDED


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, verbose_name="凭证", on_delete=models.PROTECT, related_name="lines")
    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", on_delete=models.PROTECT, related_name="receipt_lines")
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", verbose_name="年度参保", on_delete=models.PROTECT, related_name="receipt_lines"
    )
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("公民身份号码", max_length=18)
    tier = models.PositiveSmallIntegerField("档次")
    standard = money("缴费标准")
    subsidy = money("资助金额")
    amount = money("个人缴费")
    subsidy_category_code = models.CharField("资助类别", max_length=30, blank=True)

    class Meta:
        verbose_name = "凭证明细"
        verbose_name_plural = "凭证明细"
        ordering = ["receipt_id", "id"]

    def __str__(self):
        return f"{self.receipt_id} {self.name} {self.amount}"
