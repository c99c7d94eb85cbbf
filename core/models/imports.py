"""One record per uploaded import file (a village's roster, a department's identity list, …):
the file, what its preview found row by row, and what its apply wrote. The flow that moves it
along is ``core.imports.flow``; what a row does is the importer's (``core.imports.importers``)."""

from django.conf import settings
from django.db import models

from ..choices import ImportStatus
from ..imports.importers import kinds_for
from .regions import Region


class ImportRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Runs whose region lies in the user's region (a run targets a village, a township or a
        county, so the rule is the regions' own) and whose importer the user may use; a
        department's user sees only the lists they uploaded — another department's list is not
        theirs to read."""
        if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
            return self.all()  # as scope_q: every row, a kind no app registers any more included
        runs = self.filter(region__in=Region.objects.visible_to(user), kind__in=kinds_for(user))
        if user is not None and user.is_authenticated and user.role == "department":
            runs = runs.filter(uploaded_by=user)
        return runs


class ImportRun(models.Model):
    kind = models.CharField("类型", max_length=30)
    region = models.ForeignKey(Region, verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("年度", null=True, blank=True)
    options = models.JSONField("导入选项", default=dict, blank=True)
    file = models.FileField("文件", upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    status = models.CharField("状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    # Rows by outcome ({"new": 3, "error": 1, …}) as the preview found them, then as the apply wrote them.
    counts = models.JSONField("各结果行数", default=dict, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)
    # The rows that say something (errors, warnings, moves): [line, outcome, message, name, id number].
    # Full numbers are kept, as in the file itself; pages and the download show them as the viewer may see them.
    rows = models.JSONField("需要注意的行", default=list, blank=True)
    error = models.TextField("错误", blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        app_label = "enrollment"  # beside the other core tables (see core/models/__init__.py)
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "region", "-created_at"], name="importrun_kind_region_idx")]

    def __str__(self):
        return f"{self.original_name or self.file.name}（{self.get_status_display()}）"

    @property
    def problems(self) -> list[tuple[int, str]]:
        """(line, message) of the rows that stop or skip: what a clerk corrects."""
        return [(r[0], r[2]) for r in self.rows if r[1] == "error"]
