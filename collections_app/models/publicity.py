from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.scoping import ScopedManager
from subsidies.choices import PublicityPayers


class PublicityPosting(models.Model):
    """The paid list posted in a village (公示): dates posted and a photo kept for inspection."""

    village = models.ForeignKey("enrollment.Region", verbose_name="村/社区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField("待遇年度")
    posted_from = models.DateField("张贴开始日期")
    posted_until = models.DateField("张贴结束日期")
    # Which list was posted (the county's setting when it was recorded): everyone the tax office
    # confirmed, or the cash payers.
    payers = models.CharField("公示范围", max_length=8, choices=PublicityPayers.choices)
    person_count = models.PositiveIntegerField("公示人数", default=0)
    photo = models.FileField("张贴照片", upload_to="publicity/%Y/%m/")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "公示记录"
        verbose_name_plural = "公示记录"
        ordering = ["-posted_from", "-id"]

    def __str__(self):
        return f"{self.village} {self.year} {self.posted_from}"
