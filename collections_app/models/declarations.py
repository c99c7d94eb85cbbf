from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.scoping import ScopedManager

from ..choices import DeclarationStatus, LineResult
from ._base import money


class Declaration(models.Model):
    """A declaration form (申报表/缴费清册) sent to the tax office for a village or a township."""

    township = models.ForeignKey("enrollment.Region", verbose_name="乡镇/街道", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        "enrollment.Region", verbose_name="村/社区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="空 = 全乡镇",
    )
    year = models.PositiveIntegerField("待遇年度")
    status = models.CharField("状态", max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.SENT)
    person_count = models.PositiveIntegerField("人数", default=0)
    zero_count = models.PositiveIntegerField("零申报人数", default=0)
    total = money("金额合计", default=0)
    accepted_count = models.PositiveIntegerField("导入成功人数", default=0)
    failed_count = models.PositiveIntegerField("导入失败人数", default=0)
    confirmed_total = money("确认金额", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申报人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("申报时间", auto_now_add=True)
    answered_at = models.DateTimeField("回执导入时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "township"
    scope_level = RegionLevel.TOWNSHIP

    class Meta:
        verbose_name = "申报表"
        verbose_name_plural = "申报表"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.unit_name} {self.year}年度申报 #{self.pk}"

    @property
    def unit_name(self) -> str:
        return self.village.name if self.village_id else self.township.name


class DeclarationLine(models.Model):
    declaration = models.ForeignKey(Declaration, verbose_name="申报表", on_delete=models.CASCADE, related_name="lines")
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", verbose_name="年度参保", on_delete=models.PROTECT, related_name="declaration_lines"
    )
    village = models.ForeignKey("enrollment.Region", verbose_name="村/社区", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("公民身份号码", max_length=18)
    tier = models.PositiveSmallIntegerField("档次")
    amount = money("个人缴费")
    subsidy_category_code = models.CharField("资助类别", max_length=30, blank=True)
    result = models.CharField("回执结果", max_length=10, choices=LineResult.choices, default=LineResult.PENDING)
    fail_reason = models.CharField("失败原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "申报明细"
        verbose_name_plural = "申报明细"
        ordering = ["declaration_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "enrollment"], name="declaration_line_unique"),
        ]

    def __str__(self):
        return f"{self.name} {self.amount}"
