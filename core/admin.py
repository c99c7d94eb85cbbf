"""The Django admin, scoped like every page and API.

Who gets in: users with ``is_staff`` and Django model permissions, both granted by a superuser
(the roles in ``CAPABILITIES`` grant nothing here, and no role's account is staff). Whatever those
permissions, a staff user sees, picks in forms and saves only rows inside their own region
(``Model.objects.visible_to(user)``); another region's row is a 404, as if it did not exist.
Money and reporting records are read-only for everyone, superusers included.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from core.models import AuditEvent, ImportRun, Region, RegionQuota, User
from core.scoping import ERR_OUT_OF_SCOPE
from core.tokens import REASON_PASSWORD_CHANGED, tokens_revoke


def scoped(qs, user, through: str | None = None):
    """``qs`` restricted to what ``user`` may see: the model's own ``visible_to``, else that of
    the model reached by the lookup ``through`` (e.g. ``"receipt"``); failing both, nothing
    (superusers excepted)."""
    if hasattr(qs, "visible_to"):
        return qs.visible_to(user)
    if through:
        target = qs.model
        for name in through.split("__"):
            target = target._meta.get_field(name).related_model
        return qs.filter(**{f"{through}__in": target._default_manager.visible_to(user)})
    return qs if user.is_active and user.is_superuser else qs.none()


class ScopedAdmin(SimpleHistoryAdmin):
    """Lists, object pages, history pages, foreign-key choices and saves all go through ``scoped``."""

    #: For a model without ``visible_to`` of its own: the lookup to a model that has one.
    scope_through: str | None = None

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self.has_history = hasattr(model._meta, "simple_history_manager_attribute")
        if not self.has_history:
            self.object_history_template = None  # no history table: Django's own (admin log) page

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user, self.scope_through)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404  # missing and out of the user's region look the same
        return obj

    def get_field_queryset(self, db, db_field, request):
        """Foreign-key and many-to-many choices are the rows the related model's admin would list."""
        related = db_field.remote_field.model
        queryset = super().get_field_queryset(db, db_field, request)
        if not self.admin_site.is_registered(related):
            return queryset
        visible = self.admin_site.get_model_admin(related).get_queryset(request)
        base = queryset if queryset is not None else related._default_manager.using(db)
        return base.filter(pk__in=visible.values("pk"))

    def save_model(self, request, obj, form, change):
        # changeform_view runs in a transaction: a row saved outside the region is rolled back.
        super().save_model(request, obj, form, change)
        if not self.get_queryset(request).filter(pk=obj.pk).exists():
            raise PermissionDenied(ERR_OUT_OF_SCOPE)

    def history_view(self, request, object_id, extra_context=None):
        # simple_history falls back to the history table for rows get_queryset does not return
        # (meant for deleted rows): only superusers, who see every row, may use that.
        if not request.user.is_superuser:
            self.get_object(request, unquote(object_id))
        if not self.has_history:
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.has_history:
            raise Http404
        if not request.user.is_superuser:
            self.get_object(request, unquote(object_id))
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdmin(ScopedAdmin):
    """Records that change only through the services (money is voided or refunded, never edited
    or deleted; reports and audit events are kept as they were)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ScopedAdmin):
    list_display = ("code", "name", "level", "parent", "is_demo")
    list_filter = ("level", "is_demo")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(RegionQuota)
class RegionQuotaAdmin(ScopedAdmin):
    list_display = ("region", "year", "last_year_actual", "base_task", "target_task", "should_enrol")
    list_filter = ("year",)
    raw_id_fields = ("region",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """Runs change only through the import flow (core.imports): read here, never edited."""

    list_display = ("created_at", "kind", "region", "original_name", "status", "uploaded_by")
    list_filter = ("kind", "status")


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "role", "region", "department", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (("参保系统", {"fields": ("role", "region", "department", "phone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("参保系统", {"fields": ("role", "region", "department")}),)
    raw_id_fields = ("region",)
    scope_through = "region"  # users bound to no region (superusers) are seen by superusers only

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        # Staff manage the accounts of their region; only a superuser grants admin powers.
        return (*fields, "is_superuser", "groups", "user_permissions")

    def user_change_password(self, request, id, form_url=""):
        """A password set (or disabled) by staff ends the user's API tokens, like the user's own change."""
        user = self.get_object(request, unquote(id))
        before = user.password if user is not None else None
        response = super().user_change_password(request, id, form_url)
        if user is not None:
            user.refresh_from_db(fields=["password"])
            if user.password != before:
                tokens_revoke(user=user, actor=request.user, reason=REASON_PASSWORD_CHANGED)
        return response
