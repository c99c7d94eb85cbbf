"""Choices of the policy kernel."""

from django.db import models


class PublicityPayers(models.TextChoices):
    """Whom a village's paid-list publicity (公示) lists: a county setting.

    Neixiang posts the tax office's list of everyone who paid, by any channel; Shizhu posts the
    residents who paid a collector in cash. The others set none (``PAID`` is listed then)."""

    ALL = "all", "全部已缴费人员（税务反馈清册）"
    CASH = "cash", "现金缴费人员"
    # Where a plan sets none: everyone known to have paid — confirmed in treasury, and cash paid
    # to a collector not yet confirmed — so a village printing its list after a cash round is
    # not left with nobody, nor with only part of its payers.
    PAID = "paid", "全部已缴费人员（已入库及现金收款）"
