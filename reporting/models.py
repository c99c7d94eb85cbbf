"""Stored progress: daily snapshots, rankings, township notes and the report records."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.models import Region
from core.scoping import ScopedManager

from . import metrics


def money(**kwargs):
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class RegionScopedQuerySet(models.QuerySet):
    """Rows about a region at any level: visible when the region is in the user's scope."""

    def visible_to(self, user):
        return self.filter(region__in=Region.objects.visible_to(user))


# The integer figures a snapshot carries, in display order.
COUNT_FIELDS = (
    "roster",
    "excluded",
    "collected",
    "declared",
    "confirmed",
    "refunded",
    "special_total",
    "special_confirmed",
    "no_record",
    "partial_households",
    "gaps",
    "gap_households",
)


class Figures(models.Model):
    """One unit's season figures: the fields and rates a dashboard card shows. Stored as a
    day's snapshot (``ProgressSnapshot``) and as the figures kept current today (``CurrentFigures``)."""

    region = models.ForeignKey(Region, verbose_name="单位", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField("待遇年度")
    level = models.CharField("层级", max_length=10, choices=RegionLevel.choices)
    quota_base = models.PositiveIntegerField("任务数", null=True, blank=True)
    quota_target = models.PositiveIntegerField("目标任务数", null=True, blank=True)
    quota_from_roster = models.BooleanField("任务数取自花名册", default=False)
    roster = models.PositiveIntegerField("花名册人数", default=0)
    excluded = models.PositiveIntegerField("不在本地参保", default=0)
    collected = models.PositiveIntegerField("已收款人数", default=0)
    declared = models.PositiveIntegerField("已申报人数", default=0)
    confirmed = models.PositiveIntegerField("已入库人数", default=0)
    refunded = models.PositiveIntegerField("已退费人数", default=0)
    money_collected = money(verbose_name="已收金额", default=0)
    special_total = models.PositiveIntegerField("重点人群人数", default=0)
    special_confirmed = models.PositiveIntegerField("重点人群已入库", default=0)
    no_record = models.PositiveIntegerField("无参保记录也无原因", default=0)
    partial_households = models.PositiveIntegerField("部分成员未缴费的户", default=0)
    gaps = models.PositiveIntegerField("缺口人数（既未缴费也无原因）", default=0)
    gap_households = models.PositiveIntegerField("有缺口的户", default=0)

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def rate(self):
        return metrics.rate(self.confirmed, self.quota_base)

    @property
    def rate_target(self):
        return metrics.rate(self.confirmed, self.quota_target)

    @property
    def collected_rate(self):
        return metrics.rate(self.collected, self.quota_base)

    @property
    def special_rate(self):
        return metrics.rate(self.special_confirmed, self.special_total)

    @property
    def special_missing(self) -> int:
        return max(self.special_total - self.special_confirmed, 0)


class ProgressSnapshot(Figures):
    """One unit's figures at the close of one day (the county's cut-off). Re-taking a day
    replaces its rows (unique region+date, bulk upsert)."""

    region = models.ForeignKey(Region, verbose_name="单位", on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField("日期")
    taken_at = models.DateTimeField("生成时间", auto_now=True)

    class Meta:
        verbose_name = "每日进度快照"
        verbose_name_plural = "每日进度快照"
        ordering = ["date", "region__code"]
        constraints = [models.UniqueConstraint(fields=["region", "date"], name="snapshot_region_date_unique")]
        indexes = [models.Index(fields=["date", "level"], name="snapshot_date_level_idx")]

    def __str__(self):
        return f"{self.region} {self.date}"


class CurrentFigures(Figures):
    """One unit's figures as they stand now, kept current during the day (reporting.current):
    what today's dashboards read at every level, so that no request aggregates the county's
    residents. ``date`` is the day they are figures of; ``taken_at`` the time they were last
    known to be current (a refresh found no change after it). The day's cut-off snapshot is
    taken apart from these and never changed by them."""

    county = models.ForeignKey(Region, verbose_name="县/区", on_delete=models.CASCADE, related_name="+")
    date = models.DateField("日期")
    taken_at = models.DateTimeField("核对时间")
    full_at = models.DateTimeField("全量重算时间", null=True, blank=True)

    class Meta:
        verbose_name = "当日实时进度"
        verbose_name_plural = "当日实时进度"
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="current_figures_region_year_unique")]
        indexes = [models.Index(fields=["county", "year"], name="current_figures_county_idx")]

    def __str__(self):
        return f"{self.region} {self.year}"


class RankingKind(models.TextChoices):
    WEEKLY = "weekly", "周排名"
    FINAL = "final", "最终考核"


class Ranking(models.Model):
    """One ranking of a county's townships (and the villages within each township) on one day."""

    county = models.ForeignKey(Region, verbose_name="县/区", on_delete=models.CASCADE, related_name="rankings")
    date = models.DateField("排名日期")
    year = models.PositiveIntegerField("待遇年度")
    kind = models.CharField("类型", max_length=10, choices=RankingKind.choices, default=RankingKind.WEEKLY)
    created_at = models.DateTimeField("生成时间", auto_now=True)

    objects = ScopedManager()
    scope_path = "county"
    scope_level = RegionLevel.COUNTY
    scope_ancestors_visible = True

    class Meta:
        verbose_name = "排名"
        verbose_name_plural = "排名"
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["county", "date", "kind"], name="ranking_county_date_kind_unique")]

    def __str__(self):
        return f"{self.county} {self.date} {self.get_kind_display()}"


class RankingEntry(models.Model):
    ranking = models.ForeignKey(Ranking, verbose_name="排名", on_delete=models.CASCADE, related_name="entries")
    region = models.ForeignKey(Region, verbose_name="单位", on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Region, verbose_name="比较范围", on_delete=models.CASCADE, related_name="+")
    level = models.CharField("层级", max_length=10, choices=RegionLevel.choices)
    rank = models.PositiveIntegerField("名次")
    confirmed = models.PositiveIntegerField("入库人数", default=0)
    collected = models.PositiveIntegerField("收款人数", default=0)
    quota = models.PositiveIntegerField("任务数", null=True, blank=True)
    rate = models.DecimalField("参保率（%）", max_digits=7, decimal_places=2, null=True, blank=True)
    previous_rank = models.PositiveIntegerField("上期名次", null=True, blank=True)
    change = models.IntegerField("名次变化", null=True, blank=True)
    in_bottom = models.BooleanField("排名靠后", default=False)
    bottom_streak = models.PositiveSmallIntegerField("连续靠后次数", default=0)
    interview = models.BooleanField("约谈", default=False)
    carried = models.BooleanField("沿用前次数据", default=False)

    objects = RegionScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "排名明细"
        verbose_name_plural = "排名明细"
        ordering = ["ranking_id", "level", "group_id", "rank"]
        constraints = [models.UniqueConstraint(fields=["ranking", "region"], name="ranking_entry_unique")]


class WeeklyNote(models.Model):
    """A township's weekly note (Neixiang: 典型做法、存在问题及建议), printed with the ranking of ``date``."""

    township = models.ForeignKey(Region, verbose_name="乡镇", on_delete=models.CASCADE, related_name="weekly_notes")
    date = models.DateField("所属排名日期")
    good_practices = models.TextField("典型做法", blank=True)
    problems = models.TextField("存在问题", blank=True)
    suggestions = models.TextField("建议", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "township"
    scope_level = RegionLevel.TOWNSHIP
    scope_ancestors_visible = False

    class Meta:
        verbose_name = "乡镇周报说明"
        verbose_name_plural = "乡镇周报说明"
        ordering = ["-date", "township__code"]
        constraints = [models.UniqueConstraint(fields=["township", "date"], name="weekly_note_unique")]

    def __str__(self):
        return f"{self.township} {self.date}"


class ReportKind(models.TextChoices):
    DAILY = "daily", "每日进度通报"
    WEEKLY = "weekly", "每周排名通报"
    FINAL = "final", "征缴结束考核"


class Report(models.Model):
    """A published report: what was announced, on which day, kept as it was."""

    kind = models.CharField("类型", max_length=10, choices=ReportKind.choices)
    county = models.ForeignKey(Region, verbose_name="县/区", on_delete=models.CASCADE, related_name="reports")
    date = models.DateField("日期")
    year = models.PositiveIntegerField("待遇年度")
    title = models.CharField("标题", max_length=200)
    payload = models.JSONField("内容", default=dict)
    created_at = models.DateTimeField("生成时间", auto_now=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="已阅", blank=True, related_name="+")

    objects = ScopedManager()
    scope_path = "county"
    scope_level = RegionLevel.COUNTY
    scope_ancestors_visible = True  # announced to every unit of the county

    class Meta:
        verbose_name = "报表"
        verbose_name_plural = "报表"
        ordering = ["-date", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["county", "kind", "date"], name="report_county_kind_date_unique")]

    def __str__(self):
        return self.title
