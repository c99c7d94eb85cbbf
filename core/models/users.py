from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.choices import ROLE_LEVELS, Department, Role

from .regions import Region

# What each role may do. One table, so a page, an API view and a task ask the same question.
CAPABILITIES: dict[str, set] = {  # capability -> the roles (Role members) that have it
    "roster.view": {Role.BUREAU, Role.TAX, Role.TOWNSHIP, Role.COLLECTOR, Role.LEADERSHIP},
    "roster.edit": {Role.TOWNSHIP, Role.COLLECTOR},
    "roster.import": {Role.TOWNSHIP, Role.COLLECTOR},
    "id.full": {Role.BUREAU, Role.TAX, Role.TOWNSHIP, Role.COLLECTOR},
    # Full ID numbers on the declaration form: the township declares it, the tax office imports it.
    "declaration.id_full": {Role.TAX, Role.TOWNSHIP},
    "payment.take": {Role.COLLECTOR, Role.TOWNSHIP},
    "receipt.void": {Role.TOWNSHIP},
    "remittance.record": {Role.COLLECTOR, Role.TOWNSHIP},
    "declaration.manage": {Role.TOWNSHIP},
    "publicity.manage": {Role.TOWNSHIP, Role.COLLECTOR},
    "refund.apply": {Role.TOWNSHIP, Role.COLLECTOR, Role.BUREAU},
    "refund.approve": {Role.BUREAU},
    "refund.pay": {Role.TAX},
    "policy.edit": {Role.BUREAU},
    "identity.import": {Role.BUREAU, Role.DEPARTMENT},
    "taximport.run": {Role.TAX},
    # The county's list of tax-import problem rows no township owns (their 参保地 names none).
    "taximport.unowned": {Role.BUREAU, Role.TAX},
    "report.view": {Role.BUREAU, Role.TAX, Role.TOWNSHIP, Role.COLLECTOR, Role.LEADERSHIP},
    "report.note": {Role.TOWNSHIP},
    "report.run": {Role.BUREAU},
    "audit.view": {Role.BUREAU},
}

ERR_ROLE_LEVEL = "角色“{role}”应绑定到{levels}级单位。"
ERR_DEPARTMENT_REQUIRED = "部门工作人员必须选择所属部门。"


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Users bound to a region the viewer's region covers (fail closed, like every scoped row)."""
        return self.filter(region__in=Region.objects.visible_to(user))


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]  # a class built at run time
    pass


class User(AbstractUser):
    """Someone who logs in: one role, bound to one region (and one department for department staff)."""

    role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        "enrollment.Region", verbose_name="所属地区", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    department = models.CharField("所属部门", max_length=20, choices=Department.choices, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    # When a password was last set (any path: own change, admin, management command). API tokens
    # made before it are refused (core.tokens).
    password_changed = models.DateTimeField("密码修改时间", null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["password", "last_login", "password_changed"])

    objects = ScopedUserManager()

    class Meta:
        app_label = "enrollment"  # the table, its migrations and admin URLs stay where they were made
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def clean(self):
        super().clean()
        if self.role and self.region_id:
            levels = ROLE_LEVELS[Role(self.role)]
            if self.region.level not in levels:
                names = "或".join(sorted(str(lvl.label) for lvl in levels))
                raise ValidationError({"region": ERR_ROLE_LEVEL.format(role=self.get_role_display(), levels=names)})
        if self.role == Role.DEPARTMENT and not self.department:
            raise ValidationError({"department": ERR_DEPARTMENT_REQUIRED})

    def save(self, **kwargs):
        # Django keeps the raw password in ``_password`` from set_password() until the save; a hash
        # upgrade at login clears it first, so only a real change is stamped.
        if self._password is not None:
            self.password_changed = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "password_changed"}
        super().save(**kwargs)

    def set_unusable_password(self):
        super().set_unusable_password()
        self.password_changed = timezone.now()

    def can(self, capability: str) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return self.role in CAPABILITIES[capability]

    def may_write(self, *, department_list: bool = False) -> bool:
        """The read-only rule: leadership never changes data; a department only its own lists
        (``department_list``: the identity-list import)."""
        if self.role == Role.LEADERSHIP:
            return False
        return self.role != Role.DEPARTMENT or department_list

    @property
    def is_read_only(self) -> bool:
        return not self.may_write()

    @property
    def county(self):
        return self.region.county if self.region_id else None

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
