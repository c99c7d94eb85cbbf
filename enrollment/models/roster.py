"""The roster (花名册): households, persons (一人一档) and each benefit year's enrollment."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core import idcard
from core.choices import RegionLevel
from core.scoping import ScopedManager
from subsidies.choices import CoverGroup

from ..choices import REASONS_NEEDING_NOTE, EnrollmentStatus, ExclusionReason, Relation, Sex

ERR_VILLAGE_LEVEL = "户必须属于村/社区一级单位。"
ERR_SEX_MISMATCH = "性别与身份证号码不一致（第17位奇数为男，偶数为女）。"
ERR_BIRTH_MISMATCH = "出生日期与身份证号码不一致。"
ERR_DECEASED_DATE = "已死亡人员须填写死亡日期。"
ERR_REASON_REQUIRED = "不参保人员必须选择原因。"
ERR_REASON_NOTE_REQUIRED = "选择“{reason}”时必须注明具体原因。"
ERR_REASON_ONLY_EXCLUDED = "只有“不在本地参保”的记录才填写不参保原因。"


class Household(models.Model):
    """户: one family register (户口簿) in one village."""

    village = models.ForeignKey(
        "enrollment.Region", verbose_name="村/社区", on_delete=models.PROTECT, related_name="households"
    )
    number = models.CharField("户号", max_length=30)
    address = models.CharField("住址", max_length=200, blank=True)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"
        ordering = ["village_id", "number"]
        constraints = [models.UniqueConstraint(fields=["village", "number"], name="household_number_unique")]

    def __str__(self):
        return f"{self.village.name} {self.number}号"

    def clean(self):
        if self.village_id and self.village.level != RegionLevel.VILLAGE:
            raise ValidationError({"village": ERR_VILLAGE_LEVEL})

    @property
    def head(self):
        return self.members.filter(relation=Relation.HEAD).first()


class Person(models.Model):
    """One resident, identified by the 18-character ID number across the whole deployment."""

    id_number = models.CharField("公民身份号码", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    household = models.ForeignKey(Household, verbose_name="户", on_delete=models.PROTECT, related_name="members")
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices, default=Relation.HEAD)
    hukou_place = models.CharField("户籍地", max_length=100, blank=True)
    is_student = models.BooleanField("在校大学生", default=False)
    is_deceased = models.BooleanField("已死亡", default=False)
    deceased_on = models.DateField("死亡日期", null=True, blank=True)
    deceased_source = models.CharField("死亡信息来源", max_length=100, blank=True)
    # Where a county covers a group from a particular day (subsidies.choices.CoverGroup): the
    # group, and the day it began (a welfare institution took the child in; a release).
    cover_group = models.CharField("特殊参保人群", max_length=30, choices=CoverGroup.choices, blank=True)
    cover_group_since = models.DateField("人群起始日期", null=True, blank=True, help_text="儿童福利机构接收儿童：进入机构之日")
    # A newborn not enrolled on its own follows one guardian's cover in its birth year (Neixiang:
    # 父或母参加…不用缴费; Shizhu: 随其法定监护人…一经选择不得变更 — PolicyYear.newborn_guardian_fixed).
    guardian = models.ForeignKey(
        "self", verbose_name="随同参保的监护人", null=True, blank=True, on_delete=models.PROTECT, related_name="wards",
    )
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "household__village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "参保人"
        verbose_name_plural = "参保人"
        ordering = ["household_id", "id"]
        indexes = [models.Index(fields=["name"], name="person_name_idx")]

    def __str__(self):
        return f"{self.name}（{self.masked_id}）"

    @property
    def masked_id(self) -> str:
        return idcard.mask(self.id_number)

    def fill_from_id(self):
        """Derive sex and birth date from the ID number (they are kept consistent with it)."""
        info = idcard.parse(self.id_number)
        self.id_number = info.number
        self.sex = info.sex
        self.birth_date = info.birth_date

    def clean(self):
        try:
            info = idcard.parse(self.id_number)
        except idcard.IdNumberError as exc:
            raise ValidationError({"id_number": exc.message}) from None
        self.id_number = info.number
        if not self.sex:
            self.sex = info.sex
        if not self.birth_date:
            self.birth_date = info.birth_date
        errors = {}
        if self.sex != info.sex:
            errors["sex"] = ERR_SEX_MISMATCH
        if self.birth_date != info.birth_date:
            errors["birth_date"] = ERR_BIRTH_MISMATCH
        if self.is_deceased and not self.deceased_on:
            errors["deceased_on"] = ERR_DECEASED_DATE
        if errors:
            raise ValidationError(errors)


class Enrollment(models.Model):
    """A person's enrollment for one benefit year, at one village (参保地).

    Lifecycle: pending → paid (receipted) → declared to tax → confirmed in treasury (入库),
    or refunded; people not enrolling here are ``excluded`` with a reason.
    """

    # No index of its own: the unique (person, year) index serves every lookup by person, and an
    # index less is one write less for each of the county's enrollments a tax filing confirms.
    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="enrollments", db_index=False
    )
    year = models.PositiveIntegerField("待遇年度")
    village = models.ForeignKey(
        "enrollment.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="enrollments"
    )
    tier = models.PositiveSmallIntegerField("缴费档次", default=1)
    status = models.CharField("状态", max_length=12, choices=EnrollmentStatus.choices, default=EnrollmentStatus.PENDING)
    exclusion_reason = models.CharField("不参保原因", max_length=20, choices=ExclusionReason.choices, blank=True)
    reason_note = models.CharField("原因说明", max_length=200, blank=True)
    # What was owed when money was taken or declared: standard, the best subsidy, self-pay.
    standard = models.DecimalField("缴费标准", max_digits=12, decimal_places=2, null=True, blank=True)
    subsidy = models.DecimalField("资助金额", max_digits=12, decimal_places=2, null=True, blank=True)
    amount_due = models.DecimalField("个人应缴", max_digits=12, decimal_places=2, null=True, blank=True)
    subsidy_category_code = models.CharField("适用资助类别", max_length=30, blank=True)
    paid_on = models.DateField("缴费日期", null=True, blank=True)
    declared_on = models.DateField("申报日期", null=True, blank=True)
    confirmed_on = models.DateField("入库日期", null=True, blank=True)
    tax_voucher = models.CharField("税票号码", max_length=40, blank=True)
    benefit_start = models.DateField("待遇享受开始日期", null=True, blank=True)
    refunded_on = models.DateField("退费日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Who changed it is kept, without a foreign-key constraint on the user: a tax filing writes
    # ~600,000 history rows in one transaction and each would queue a deferred check at commit.
    # Deleting a user still empties the column (SET_NULL is applied by Django, not the database).
    # The history's village has no index: no page looks history up by village (the audit list
    # is the bureau's, a whole county, read in date order), and each index is one more insert
    # for every enrollment a county filing confirms.
    history = HistoricalRecords(user_db_constraint=False, no_db_index=["village"])

    objects = ScopedManager()
    scope_path = "village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "年度参保"
        verbose_name_plural = "年度参保"
        ordering = ["-year", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "year"], name="enrollment_person_year_unique"),
            models.CheckConstraint(
                condition=Q(status=EnrollmentStatus.EXCLUDED) | Q(exclusion_reason=""),
                name="enrollment_reason_only_when_excluded",
            ),
            models.CheckConstraint(
                condition=~Q(status=EnrollmentStatus.EXCLUDED) | ~Q(exclusion_reason=""),
                name="enrollment_excluded_has_reason",
            ),
        ]
        # No index holds a column that changes as money comes in (status, dates, voucher): an
        # update then touches no index and PostgreSQL can keep the new row version on the same
        # page ("HOT"), which the table's fillfactor leaves room for (migration 0002). A tax
        # filing confirms a whole county's enrollments in one transaction; that halves its cost.
        # Progress counts filter a year's rows of a village (this index) and read the status there.
        indexes = [
            models.Index(fields=["year", "village"], name="enrollment_year_village_idx"),
        ]

    def __str__(self):
        return f"{self.person.name} {self.year}年 {self.get_status_display()}"

    def clean(self):
        if self.status == EnrollmentStatus.EXCLUDED:
            if not self.exclusion_reason:
                raise ValidationError({"exclusion_reason": ERR_REASON_REQUIRED})
            if self.exclusion_reason in REASONS_NEEDING_NOTE and not self.reason_note.strip():
                label = ExclusionReason(self.exclusion_reason).label
                raise ValidationError({"reason_note": ERR_REASON_NOTE_REQUIRED.format(reason=label)})
        elif self.exclusion_reason:
            raise ValidationError({"exclusion_reason": ERR_REASON_ONLY_EXCLUDED})
        if self.village_id and self.village.level != RegionLevel.VILLAGE:
            raise ValidationError({"village": ERR_VILLAGE_LEVEL})


class HouseholdNotice(models.Model):
    """Per unpaid household and benefit year: were the enrollment notice receipt (告知书回执)
    and the pledge letter (承诺书) collected? (Jiangnan: proof that the household was told.)"""

    household = models.ForeignKey(Household, verbose_name="户", on_delete=models.CASCADE, related_name="notices")
    year = models.PositiveIntegerField("待遇年度")
    notice_receipt = models.BooleanField("已收回告知书回执", default=False)
    pledge_letter = models.BooleanField("已签承诺书", default=False)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    scope_path = "household__village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "告知书与承诺书"
        verbose_name_plural = "告知书与承诺书"
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="household_notice_year_unique")]

    def __str__(self):
        return f"{self.household} {self.year}年"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    APPROVED = "approved", "已转入"
    REJECTED = "rejected", "已退回"


class TransferRequest(models.Model):
    """A clerk found that a resident is already on another village's roster (一人一档) and asks
    for the person to be moved into one of their households. The side that holds the person decides."""

    person = models.ForeignKey(Person, verbose_name="参保人", on_delete=models.CASCADE, related_name="transfer_requests")
    from_household = models.ForeignKey(
        Household, verbose_name="原户", on_delete=models.CASCADE, related_name="transfers_out"
    )
    to_household = models.ForeignKey(
        Household, verbose_name="转入户", on_delete=models.CASCADE, related_name="transfers_in"
    )
    relation = models.CharField("与新户主关系", max_length=20, choices=Relation.choices, default=Relation.OTHER)
    status = models.CharField("状态", max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    note = models.CharField("说明", max_length=200, blank=True)
    requested_by = models.ForeignKey(
        "enrollment.User", verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "enrollment.User", verbose_name="处理人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = ScopedManager()
    # Scoped by the requesting side; the holding side is reached with ``from_household__village``.
    scope_path = "to_household__village"
    scope_level = RegionLevel.VILLAGE

    class Meta:
        verbose_name = "转户申请"
        verbose_name_plural = "转户申请"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.person.name} → {self.to_household}"
