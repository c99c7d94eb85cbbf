from django.conf import settings
from django.db import models

from core.choices import RegionLevel
from core.scoping import ScopedManager


class AuditEvent(models.Model):
    """Reads and actions that change no row but must be traceable: full-ID views, exports,
    imports, logins. Row changes themselves are in django-simple-history tables."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField("操作", max_length=50)
    object_type = models.CharField("对象类型", max_length=50, blank=True)
    object_id = models.CharField("对象", max_length=50, blank=True)
    region = models.ForeignKey(
        "enrollment.Region", verbose_name="地区", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = ScopedManager()
    scope_path = "region"
    scope_level = RegionLevel.COUNTY  # events are filed at the actor's county

    class Meta:
        app_label = "enrollment"  # the table, its migrations and admin URLs stay where they were made
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
