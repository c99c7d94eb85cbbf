from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditEvent, Enrollment, Household, Person, Region, RegionQuota, User


class ScopedAdmin(SimpleHistoryAdmin):
    """Admin lists go through the same region scoping as every page and API."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.visible_to(request.user) if hasattr(qs, "visible_to") else qs


@admin.register(Region)
class RegionAdmin(ScopedAdmin):
    list_display = ("code", "name", "level", "parent", "is_demo")
    list_filter = ("level", "is_demo")
    search_fields = ("code", "name")


@admin.register(RegionQuota)
class RegionQuotaAdmin(ScopedAdmin):
    list_display = ("region", "year", "last_year_actual", "base_task", "target_task", "should_enrol")
    list_filter = ("year",)


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "village", "address")
    search_fields = ("number", "address")
    raw_id_fields = ("village",)


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = ("name", "masked_id", "sex", "birth_date", "household", "is_deceased")
    search_fields = ("name", "id_number")
    raw_id_fields = ("household",)


@admin.register(Enrollment)
class EnrollmentAdmin(ScopedAdmin):
    list_display = ("person", "year", "village", "tier", "status", "amount_due")
    list_filter = ("year", "status")
    raw_id_fields = ("person", "village")


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "first_name", "role", "region", "department", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (("参保系统", {"fields": ("role", "region", "department", "phone")}),)
    raw_id_fields = ("region",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        from .models import Region

        return qs.filter(region__in=Region.objects.visible_to(request.user))
