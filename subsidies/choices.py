"""Choices of the policy kernel."""

from django.db import models


class PublicityPayers(models.TextChoices):
    """Whom a village's paid-list publicity (公示) lists: a county setting.

    Neixiang posts the tax office's list of everyone who paid, by any channel; Shizhu posts the
    residents who paid a collector in cash."""

    ALL = "all", "全部已缴费人员（税务反馈清册）"
    CASH = "cash", "现金缴费人员"
