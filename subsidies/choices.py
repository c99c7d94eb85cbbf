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


class RefundReason(models.TextChoices):
    """Why a resident's contribution is refunded. The national set (国家医保办函〔2021〕11号, as
    Neixiang and Gaoyang quote it): death, duplicate payment, employee insurance, enrolment
    elsewhere; Gaoyang adds military service and imprisonment (seed 004: 因死亡、服役、服刑以及
    重复缴费、参加职工医保或其他统筹地区居民医保). Which apply is a county's policy
    (``PolicyYear.refund_reasons``)."""

    DEATH = "death", "死亡"
    MILITARY = "military", "服役"
    PRISON = "prison", "服刑"
    DUPLICATE = "duplicate", "重复缴费"
    EMPLOYEE = "employee", "参加职工医保"
    ELSEWHERE = "elsewhere", "在外地参保"
    SUBSIDY_DIFFERENCE = "subsidy_difference", "资助差额"


# Refund reasons that take the person out of the scheme for the year (enrollment → refunded).
# A duplicate payment or a subsidy difference returns extra money: the person stays enrolled.
LEAVING_REASONS = (
    RefundReason.DEATH, RefundReason.MILITARY, RefundReason.PRISON, RefundReason.EMPLOYEE, RefundReason.ELSEWHERE,
)

# A policy year that lists no reasons refunds for these (国家医保办函〔2021〕11号), and for a
# subsidy difference where the policy refunds differences (late_identity_refunds_difference).
NATIONAL_REFUND_REASONS = (RefundReason.DEATH, RefundReason.DUPLICATE, RefundReason.EMPLOYEE, RefundReason.ELSEWHERE)

# Refunded only before the benefit period begins (seed 000, 国家医保办函〔2021〕11号: 未进入待遇享受期前
# 因死亡、重复缴费、参加职工医保或在其他统筹地区参加居民医保的; seed 004: 在相应待遇享受期未开始前，因死亡、
# 服役、服刑以及重复缴费……). A subsidy difference is not: Gaoyang refunds an identity changed after
# the window (集中征缴期结束后变更身份的……进行退费处理), Qinshui after the window ends (在集中征缴期结束后，
# 按照财政补贴标准进行退补) — both inside the benefit year.
BEFORE_COVER_REASONS = (*LEAVING_REASONS, RefundReason.DUPLICATE)
