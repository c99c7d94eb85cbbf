from django.db import models
from simple_history.models import HistoricalRecords

from core.choices import RegionLevel
from core.scoping import ScopedManager


class PersonIdentity(models.Model):
    """A person's certified subsidy identity for one benefit year, from a department's list."""

    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", on_delete=models.CASCADE, related_name="identities")
    category = models.ForeignKey("subsidies.SubsidyCategory", verbose_name="资助类别", on_delete=models.PROTECT, related_name="identities")
    year = models.PositiveIntegerField("待遇年度")
    certified_on = models.DateField("认定日期")
    source_list = models.CharField("来源名单", max_length=200, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "person__household__village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        app_label = "subsidies"  # the table, its migrations and admin URLs stay where they were made
        verbose_name = "资助身份"
        verbose_name_plural = "资助身份"
        ordering = ["person_id", "category_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "category", "year"], name="identity_person_category_year_unique"),
        ]
        indexes = [models.Index(fields=["year", "category"], name="identity_year_category_idx")]

    def __str__(self):
        return f"{self.person} · {self.category}"
