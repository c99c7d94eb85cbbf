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


class NewbornPriorYear(models.TextChoices):
    """What a baby born in the year before the benefit year gets when it enrols after its birth
    year ends (a county setting; the seeds' sentences are in fixtures/policies/*.json notes)."""

    # The newborn window carries it into the next year's cover from 1 January (no other rule).
    WINDOW = "window", "出生后规定期限内参保即享受次年待遇"
    # Neixiang: 2024年度出生的小孩，必须在2024年12月31日前缴费才能享受次年医保待遇.
    YEAR_END = "year_end", "须在出生当年12月31日前缴费才享受次年待遇"
    # Shizhu: 次年90日内参保的可补缴出生当年费用、自出生之日起享受; 超过3个月的从足额缴费后90日起.
    BACKPAY = "backpay", "次年期限内参保，可补缴出生当年"
    # Gaoyang: 跨两个年度的，按规定标准缴纳两个年度的个人缴费部分后，分别按两个年度享受.
    BOTH_YEARS = "both_years", "跨两个年度须缴纳两个年度个人部分"


class CoverGroup(models.TextChoices):
    """Groups some counties cover from a particular day rather than by the payment window
    (Jiangnan: 退役军人、征兵工作退回人员、刑满释放人员、社区矫正对象 from the day they pay;
    children taken in by a welfare institution from the day they entered)."""

    VETERAN = "veteran", "退役军人"
    RETURNED_CONSCRIPT = "returned_conscript", "征兵工作退回人员"
    RELEASED_PRISONER = "released_prisoner", "刑满释放人员"
    COMMUNITY_CORRECTIONS = "community_corrections", "社区矫正对象"
    WELFARE_CHILD = "welfare_child", "儿童福利机构接收的儿童"
