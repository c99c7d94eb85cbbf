from django.db import models
from django.db.models import Q

from core.choices import RegionLevel


class RegionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The user's region and everything below it (fail closed without a region)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        region = getattr(user, "region", None)
        if region is None:
            return self.none()
        return self.filter(Q(pk=region.pk) | Q(parent_id=region.pk) | Q(parent__parent_id=region.pk))

    def counties(self):
        return self.filter(level=RegionLevel.COUNTY)

    def townships(self):
        return self.filter(level=RegionLevel.TOWNSHIP)

    def villages(self):
        return self.filter(level=RegionLevel.VILLAGE)


class Region(models.Model):
    """County (县/区) → township (乡镇/街道) → village (村/社区/渔场…), with official codes.

    Codes: 6-digit GB/T 2260 county codes, 9-digit township and 12-digit village statistical
    codes where known; demo units carry a code in the same shape, flagged ``is_demo``.
    """

    level = models.CharField("层级", max_length=10, choices=RegionLevel.choices)
    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField("序号", default=0)
    is_demo = models.BooleanField("演示数据", default=False, help_text="种子文件未列出名称、为演示生成的单位")

    objects = RegionQuerySet.as_manager()

    class Meta:
        app_label = "enrollment"  # the table, its migrations and admin URLs stay where they were made
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["level", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=RegionLevel.COUNTY, parent__isnull=True) | Q(parent__isnull=False),
                name="region_parent_unless_county",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def county(self):
        node = self
        while node.parent_id is not None:
            node = node.parent
        return node

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def villages(self):
        """All villages at or below this region."""
        if self.level == RegionLevel.VILLAGE:
            return Region.objects.filter(pk=self.pk)
        if self.level == RegionLevel.TOWNSHIP:
            return Region.objects.filter(parent=self, level=RegionLevel.VILLAGE)
        return Region.objects.filter(parent__parent=self, level=RegionLevel.VILLAGE)


class QuotaQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(region__in=Region.objects.visible_to(user))


class RegionQuota(models.Model):
    """A unit's task for one benefit year, as the seeds give it.

    Jiangnan gives 2024 actual / 2025 base task / 2025 target task per village; Qinshui gives
    registered population − employee-insured = should-enrol per township; Xialu a task number.
    """

    region = models.ForeignKey(Region, verbose_name="单位", on_delete=models.CASCADE, related_name="quotas")
    year = models.PositiveIntegerField("待遇年度")
    last_year_actual = models.PositiveIntegerField("上年实缴人数", null=True, blank=True)
    base_task = models.PositiveIntegerField("基础任务数", null=True, blank=True)
    target_task = models.PositiveIntegerField("目标任务数", null=True, blank=True)
    registered_population = models.PositiveIntegerField("户籍人数", null=True, blank=True)
    employee_insured = models.PositiveIntegerField("已参加职工医保人数", null=True, blank=True)
    should_enrol = models.PositiveIntegerField("应参保人数", null=True, blank=True)

    objects = QuotaQuerySet.as_manager()

    class Meta:
        app_label = "enrollment"  # the table, its migrations and admin URLs stay where they were made
        verbose_name = "参保任务"
        verbose_name_plural = "参保任务"
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="quota_region_year_unique")]

    def __str__(self):
        return f"{self.region} {self.year}"

    @property
    def task(self) -> int | None:
        """The quota progress is measured against: base task, else should-enrol, else target task.
        (The rate against the target task is reported beside it, from ``target_task``.)"""
        for value in (self.base_task, self.should_enrol, self.target_task):
            if value:
                return value
        return None
