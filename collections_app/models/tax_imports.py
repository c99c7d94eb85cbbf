"""Tax-office payment-file imports (缴费/入库明细): one record per uploaded file, and its problem rows."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.choices import ImportStatus, RegionLevel
from core.scoping import ScopedManager


class RowOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "确认入库"
    ALREADY_CONFIRMED = "already_confirmed", "此前已入库（同一税票）"
    AMOUNT_MISMATCH = "amount_mismatch", "金额与应缴不符"
    UNKNOWN_PERSON = "unknown_person", "本县查无此人"
    DUPLICATE = "duplicate", "重复缴费（退费候选）"
    INVALID = "invalid", "无效行"


# Outcomes that need someone to act: they are stored row by row and exported for the township.
PROBLEM_OUTCOMES = (RowOutcome.AMOUNT_MISMATCH, RowOutcome.UNKNOWN_PERSON, RowOutcome.DUPLICATE, RowOutcome.INVALID)


class TaxImport(models.Model):
    county = models.ForeignKey("enrollment.Region", verbose_name="县/区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("待遇年度", null=True, blank=True, help_text="文件中没有年度列时使用")
    file = models.FileField("文件", upload_to="tax_imports/%Y/%m/", max_length=300)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    kind = models.CharField("格式", max_length=8, default="xlsx")
    # SHA-256 of the stored file once it passed the shared guard at upload
    # (core.spreadsheets.check_sheet): a run reads a file with this digest without scanning it
    # again; any other file (changed on disk, stored by hand) is scanned before it is read.
    checked_sha256 = models.CharField("已检查文件摘要", max_length=64, blank=True, editable=False)
    status = models.CharField("状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    preview = models.JSONField("预检结果", default=dict, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    # The run queued last (a preview or an apply): a task carrying another run is a late
    # redelivery of an earlier one and does nothing. ``attempts``: how many times this phase
    # (preview, or apply) started without ending — a worker killed while running it leaves it
    # counted (see tax_import/tasks.py).
    run = models.CharField("运行标识", max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField("未完成的运行次数", default=0)

    objects = ScopedManager()
    scope_path = "county"
    scope_level = RegionLevel.COUNTY

    class Meta:
        verbose_name = "税务数据导入"
        verbose_name_plural = "税务数据导入"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.original_name or self.file.name}（{self.get_status_display()}）"

    @property
    def summary(self) -> dict:
        return self.result or self.preview or {}


class TaxImportRow(models.Model):
    """A row that needs attention (amount differs, unknown person, duplicate payment, invalid),
    with its reason in Chinese. Confirmed rows are not stored: they are on the enrollment."""

    tax_import = models.ForeignKey(TaxImport, verbose_name="导入批次", on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField("行号")
    outcome = models.CharField("结果", max_length=20, choices=RowOutcome.choices)
    message = models.CharField("原因", max_length=500)
    id_number = models.CharField("身份证号码", max_length=40, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    amount = models.CharField("缴费金额", max_length=40, blank=True)
    owed = models.DecimalField("应缴金额", max_digits=12, decimal_places=2, null=True, blank=True)
    paid_on = models.CharField("缴费日期", max_length=40, blank=True)
    voucher = models.CharField("税票号码", max_length=60, blank=True)
    channel = models.CharField("缴费渠道", max_length=40, blank=True)
    place = models.CharField("参保地", max_length=100, blank=True)
    year = models.PositiveIntegerField("待遇年度", null=True, blank=True)
    township = models.ForeignKey(
        "enrollment.Region", verbose_name="乡镇", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", verbose_name="年度参保", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund_candidate = models.BooleanField("退费候选", default=False)

    objects = ScopedManager()
    scope_path = "tax_import__county"
    scope_level = RegionLevel.COUNTY

    class Meta:
        verbose_name = "导入问题行"
        verbose_name_plural = "导入问题行"
        ordering = ["tax_import_id", "row_number"]
        indexes = [models.Index(fields=["tax_import", "outcome"], name="taximportrow_outcome_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(refund_candidate=False) | Q(outcome="duplicate"), name="taximportrow_refund_only_duplicate"),
        ]

    def __str__(self):
        return f"第{self.row_number}行 {self.get_outcome_display()}"
