"""A county's benefit year as data. Differences between counties live here, never in code."""

from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.choices import Department, RegionLevel
from core.scoping import ScopedManager

from ..choices import NATIONAL_REFUND_REASONS, CoverGroup, NewbornPriorYear, PublicityPayers, RefundReason

ERR_WINDOW_ORDER = "集中征缴期的结束日期不能早于开始日期。"
# Groups a county may cover from the payment day (a welfare child counts from its entry instead).
FROM_PAYMENT_GROUPS = [g for g in CoverGroup.values if g != CoverGroup.WELFARE_CHILD]
ERR_GROUPS = "人群代码应为以下之一：{choices}。"
ERR_EXTENSION_ORDER = "延长期截止日期必须晚于集中征缴期结束日期。"
ERR_PAYMENT_DAYS = "每月缴费日应在1–31日之间，且起始日不大于截止日。"
ERR_COUNTY_LEVEL = "政策年度必须属于县/区。"
ERR_REFUND_REASONS = "退费原因代码应为以下之一：{choices}。"
ERR_REFUND_REASONS_DIFFERENCE_ON = "本年度设置了“新认定身份退还差额”，退费原因须包含“subsidy_difference（资助差额）”。"
ERR_REFUND_REASONS_DIFFERENCE_OFF = "本年度未设置“新认定身份退还差额”，退费原因不能包含“subsidy_difference（资助差额）”。"


def money(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class PolicyYear(models.Model):
    county = models.ForeignKey(
        "enrollment.Region", verbose_name="县/区", on_delete=models.PROTECT, related_name="policy_years"
    )
    year = models.PositiveIntegerField("待遇年度")
    title = models.CharField("文件名称", max_length=200, blank=True)
    source = models.CharField("依据文件", max_length=200, blank=True)

    # Collection window and extension.
    window_start = models.DateField("集中征缴开始")
    window_end = models.DateField("集中征缴结束")
    extension_end = models.DateField("延长缴费截止", null=True, blank=True, help_text="如 2月28日；延长期内缴费自次月1日起享受待遇")
    payment_day_from = models.PositiveSmallIntegerField("每月缴费起始日", null=True, blank=True)
    payment_day_to = models.PositiveSmallIntegerField("每月缴费截止日", null=True, blank=True)

    fiscal_subsidy = money(verbose_name="财政补助（元/人）", null=True, blank=True, help_text="未写明时留空")
    # Mid-year (second half) enrollment: non-low-income residents pay standard + fiscal subsidy.
    midyear_from = models.DateField("下半年参保起始日", null=True, blank=True)
    midyear_pays_fiscal_subsidy = models.BooleanField("下半年参保须自缴财政补助部分", default=False)

    # Double-limit remittance (双限报解): Neixiang's and Shizhu's plans set 5 days / 10,000 yuan;
    # a county whose plan sets none leaves both empty, and no collector is held to a limit.
    remit_days = models.PositiveSmallIntegerField("报解期限（天）", null=True, blank=True, help_text="方案未规定双限报解时留空")
    remit_amount = money(verbose_name="报解额度（元）", null=True, blank=True, help_text="方案未规定双限报解时留空")

    # Publicity of the paid list: Neixiang posts it for at least 5 working days; Shizhu sets no
    # minimum (empty: no minimum is checked).
    posting_working_days = models.PositiveSmallIntegerField(
        "公示期最少工作日", null=True, blank=True, help_text="方案未规定公示天数时留空"
    )
    # Whom the list names and when it is due: Neixiang posts the tax office's list of everyone who
    # paid, after the window; Shizhu posts cash payers in full within one month of the window's
    # end, then every quarter. Empty: the plan sets no paid-list publicity.
    publicity_payers = models.CharField(
        "公示范围", max_length=8, choices=PublicityPayers.choices, blank=True,
        help_text="方案未规定时留空（公示页按全部已入库缴费人员列示，并提示方案未规定）",
    )
    posting_after_window = models.BooleanField(
        "集中征缴期结束后才公示", default=False, help_text="内乡：集中征缴结束后……将税务部门反馈的已缴费人员清册在村张榜公示"
    )
    posting_due_months = models.PositiveSmallIntegerField(
        "集中征缴期结束后几个月内全面公示", null=True, blank=True, help_text="石柱：1；方案未规定期限时留空"
    )
    posting_every_months = models.PositiveSmallIntegerField(
        "此后每几个月公示一次", null=True, blank=True, help_text="石柱按季公示：3；方案未规定时留空"
    )

    # Reporting schedule.
    daily_cutoff = models.TimeField("每日报送截止时间", default=time(17, 0))
    ranking_weekday = models.PositiveSmallIntegerField(
        "每周排名日", default=1, help_text="1=周一 … 7=周日"
    )
    ranking_every_days = models.PositiveSmallIntegerField("排名周期（天）", default=7, help_text="7=每周，15=半月")
    weekly_reports_from = models.DateField("周报开始日期", null=True, blank=True)
    daily_reports_from = models.DateField("日报开始日期", null=True, blank=True)
    bottom_group_size = models.PositiveSmallIntegerField("排名靠后单位数", default=2)
    interview_after_weeks = models.PositiveSmallIntegerField("连续靠后几次约谈", default=2)

    # Targets and awards.
    target_rate = models.DecimalField("总体参保率目标（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    target_persons = models.PositiveIntegerField("参保人数目标", null=True, blank=True)
    work_fund_per_person = money(verbose_name="工作经费（元/参保人）", null=True, blank=True)
    prize_pool = money(verbose_name="奖励资金总额", null=True, blank=True)

    # Newborns, waiting periods and refunds.
    newborn_window_days = models.PositiveSmallIntegerField("新生儿参保期限（天）", default=90)
    newborn_window_months = models.PositiveSmallIntegerField(
        "新生儿参保期限（月）", null=True, blank=True, help_text="按月计算的地方（沁水：出生之日起六个月）填此项，优先于天数"
    )
    newborn_free_if_parent_insured = models.BooleanField("父母参保的新生儿免缴", default=False)
    newborn_guardian_fixed = models.BooleanField(
        "新生儿随同参保的监护人一经选择不得变更", default=False,
        help_text="石柱：法定监护人有多人参保缴费的，只能选择其中一人随同参保，一经选择不得变更",
    )
    newborn_late_wait_days = models.PositiveSmallIntegerField(
        "新生儿逾期参保等待天数", default=0, help_text="石柱：逾期参保从足额缴费后90日起享受"
    )
    newborn_prior_year = models.CharField(
        "上年出生的新生儿跨年参保", max_length=12, choices=NewbornPriorYear.choices, default=NewbornPriorYear.WINDOW,
        help_text="内乡：须在出生当年12月31日前缴费；石柱：可补缴出生当年；高阳：缴纳两个年度个人部分",
    )
    newborn_late_refused = models.BooleanField(
        "新生儿逾期不予办理", default=False, help_text="沁水：错过集中缴费期的新生儿出生六个月之内办理，逾期不予办理"
    )
    from_payment_groups = models.JSONField(
        "自缴费之日起享受待遇的人群", default=list, blank=True,
        help_text="江南：退役军人、征兵工作退回人员、刑满释放人员、社区矫正对象（人群代码列表）",
    )
    welfare_child_from_entry = models.BooleanField(
        "福利机构儿童自进入之日起享受", default=False, help_text="江南：儿童福利机构接收的儿童自进入儿童福利机构之日起享受医保待遇"
    )
    waiting_months_base = models.PositiveSmallIntegerField("固定待遇等待期（月）", default=3)
    waiting_months_per_break_year = models.PositiveSmallIntegerField("每多断保1年增加（月）", default=1)
    waiting_floor_months = models.PositiveSmallIntegerField("断保4年以上等待期下限（月）", default=6)
    waiting_floor_after_break_years = models.PositiveSmallIntegerField("适用下限的断保年数", default=4)
    employee_transfer_days = models.PositiveSmallIntegerField("职工医保断保后接续期限（天）", default=90)
    late_identity_refunds_difference = models.BooleanField("新认定身份退还差额", default=True)
    refund_only_if_paid_in_full = models.BooleanField(
        "仅全额缴费者事后资助", default=False, help_text="石柱：享受资助参保后身份发生变化的，不再进行差额资助"
    )
    refund_after_window = models.BooleanField(
        "征缴期结束后变更身份也退差额", default=False, help_text="高阳：集中征缴期结束后变更身份的，退费处理"
    )
    refund_deadline = models.DateField("退费受理截止", null=True, blank=True)
    refund_reasons = models.JSONField(
        "退费原因", default=list, blank=True,
        help_text="方案列明的退费原因代码；留空按国家医保办函〔2021〕11号：死亡、重复缴费、参加职工医保、在外地参保（高阳另有服役、服刑）",
    )
    whole_household_rule = models.BooleanField("同一户口簿成员须同时参保", default=False)

    # Critical-illness incentives.
    incentive_after_years = models.PositiveSmallIntegerField("连续参保满几年后激励", default=4)
    incentive_step = money(verbose_name="每次提高限额（元）", default=Decimal("1000.00"))
    incentive_cap_rate = models.DecimalField("累计提高上限（封顶线的%）", max_digits=5, decimal_places=2, default=Decimal("20.00"))
    critical_illness_base_cap = money(verbose_name="大病保险原封顶线（元）", null=True, blank=True)

    notes = models.TextField("备注", blank=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "county"
    scope_level = RegionLevel.COUNTY
    scope_ancestors_visible = True  # every clerk in the county reads its policy

    class Meta:
        verbose_name = "年度征缴政策"
        verbose_name_plural = "年度征缴政策"
        ordering = ["county__code", "-year"]
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="policy_county_year_unique")]

    def __str__(self):
        return f"{self.county.name} {self.year}年度"

    def refund_reason_codes(self) -> list[str]:
        """The refund reasons of this year, in RefundReason's order: the plan's list, or where it
        lists none the national set (国家医保办函〔2021〕11号) and, if the policy refunds a late
        identity's difference, the subsidy difference."""
        if self.refund_reasons:
            return [r for r in RefundReason.values if r in self.refund_reasons]
        codes = set(NATIONAL_REFUND_REASONS)
        if self.late_identity_refunds_difference:
            codes.add(RefundReason.SUBSIDY_DIFFERENCE)
        return [r for r in RefundReason.values if r in codes]

    def refund_reason_choices(self) -> list[tuple[str, str]]:
        return [(r, RefundReason(r).label) for r in self.refund_reason_codes()]

    def clean(self):
        if self.county_id and self.county.level != RegionLevel.COUNTY:
            raise ValidationError({"county": ERR_COUNTY_LEVEL})
        if self.window_start and self.window_end and self.window_end < self.window_start:
            raise ValidationError({"window_end": ERR_WINDOW_ORDER})
        if self.extension_end and self.window_end and self.extension_end <= self.window_end:
            raise ValidationError({"extension_end": ERR_EXTENSION_ORDER})
        groups = self.from_payment_groups
        if not isinstance(groups, list) or any(g not in FROM_PAYMENT_GROUPS for g in groups):
            raise ValidationError({"from_payment_groups": ERR_GROUPS.format(choices="、".join(
                f"{g}（{CoverGroup(g).label}）" for g in FROM_PAYMENT_GROUPS))})
        self._clean_refund_reasons()
        days = (self.payment_day_from, self.payment_day_to)
        if any(d is not None for d in days):
            if None in days or not (1 <= days[0] <= days[1] <= 31):
                raise ValidationError({"payment_day_to": ERR_PAYMENT_DAYS})


    def _clean_refund_reasons(self):
        if self.refund_reasons in (None, ""):  # a cleared box: the national set
            self.refund_reasons = []
        reasons = self.refund_reasons
        if not isinstance(reasons, list) or any(r not in RefundReason.values for r in reasons):
            raise ValidationError({"refund_reasons": ERR_REFUND_REASONS.format(choices="、".join(
                f"{r.value}（{r.label}）" for r in RefundReason))})
        if reasons and (RefundReason.SUBSIDY_DIFFERENCE in reasons) != self.late_identity_refunds_difference:
            raise ValidationError({"refund_reasons": ERR_REFUND_REASONS_DIFFERENCE_ON
                                   if self.late_identity_refunds_difference else ERR_REFUND_REASONS_DIFFERENCE_OFF})


class Tier(models.Model):
    policy = models.ForeignKey(PolicyYear, verbose_name="政策年度", on_delete=models.CASCADE, related_name="tiers")
    number = models.PositiveSmallIntegerField("档次")
    name = models.CharField("名称", max_length=20)
    standard = money(verbose_name="个人缴费标准")
    student_standard = money(verbose_name="大学生缴费标准", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "缴费档次"
        verbose_name_plural = "缴费档次"
        ordering = ["policy_id", "number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="tier_policy_number_unique")]

    def __str__(self):
        return f"{self.name}（{self.standard}元）"


class SubsidyCategory(models.Model):
    """An identity certified by a department that pays part or all of the contribution."""

    policy = models.ForeignKey(PolicyYear, verbose_name="政策年度", on_delete=models.CASCADE, related_name="categories")
    code = models.CharField("编码", max_length=30)
    name = models.CharField("资助对象", max_length=200)
    department = models.CharField("认定部门", max_length=20, choices=Department.choices, blank=True)
    department_label = models.CharField("认定部门（原文）", max_length=50, blank=True)
    applies_to_all = models.BooleanField("适用于全体普通居民", default=False)
    is_low_income = models.BooleanField("城乡低收入人口", default=False, help_text="下半年参保不设等待期、保留资助")
    is_special_group = models.BooleanField("重点人群（须100%参保）", default=True)
    sort_order = models.PositiveSmallIntegerField("序号", default=0)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "policy__county"
    scope_level = RegionLevel.COUNTY
    scope_ancestors_visible = True  # read with its policy, by every clerk of the county

    class Meta:
        verbose_name = "资助类别"
        verbose_name_plural = "资助类别"
        ordering = ["policy_id", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="category_policy_code_unique"),
        ]

    def __str__(self):
        return self.name


class CategorySubsidy(models.Model):
    """How much a category pays for one tier. Percentages are resolved to yuan when stored."""

    category = models.ForeignKey(SubsidyCategory, verbose_name="资助类别", on_delete=models.CASCADE, related_name="amounts")
    tier = models.PositiveSmallIntegerField("档次")
    amount = money(verbose_name="资助标准（元）")
    percent = models.DecimalField("资助比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "资助标准"
        verbose_name_plural = "资助标准"
        ordering = ["category_id", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["category", "tier"], name="category_subsidy_tier_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="category_subsidy_not_negative"),
        ]

    def __str__(self):
        return f"{self.category} {self.tier}档 {self.amount}元"


class PhaseTarget(models.Model):
    policy = models.ForeignKey(PolicyYear, verbose_name="政策年度", on_delete=models.CASCADE, related_name="phase_targets")
    name = models.CharField("阶段", max_length=50)
    due = models.DateField("截止日期")
    rate = models.DecimalField("目标（%）", max_digits=5, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "阶段目标"
        verbose_name_plural = "阶段目标"
        ordering = ["policy_id", "due"]

    def __str__(self):
        return f"{self.name} {self.rate}%"


class PrizeGrade(models.Model):
    policy = models.ForeignKey(PolicyYear, verbose_name="政策年度", on_delete=models.CASCADE, related_name="prize_grades")
    rank = models.PositiveSmallIntegerField("等次", help_text="1=一等奖")
    name = models.CharField("名称", max_length=20)
    count = models.PositiveSmallIntegerField("名额", null=True, blank=True, help_text="文件未写明时留空")
    amount = money(verbose_name="每个奖金（元）", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "奖项"
        verbose_name_plural = "奖项"
        ordering = ["policy_id", "rank"]
        constraints = [models.UniqueConstraint(fields=["policy", "rank"], name="prize_policy_rank_unique")]

    def __str__(self):
        return f"{self.name} × {self.count if self.count is not None else '未定'}"
