from django.contrib import admin

from core.admin import ScopedAdmin

from .models import CalendarDay, CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


class PhaseTargetInline(admin.TabularInline):
    model = PhaseTarget
    extra = 0


class PrizeGradeInline(admin.TabularInline):
    model = PrizeGrade
    extra = 0


@admin.register(PolicyYear)
class PolicyYearAdmin(ScopedAdmin):
    list_display = ("county", "year", "window_start", "window_end", "extension_end")
    list_filter = ("year",)
    inlines = [TierInline, PhaseTargetInline, PrizeGradeInline]


class CategorySubsidyInline(admin.TabularInline):
    model = CategorySubsidy
    extra = 0


@admin.register(SubsidyCategory)
class SubsidyCategoryAdmin(ScopedAdmin):
    list_display = ("name", "code", "policy", "department", "applies_to_all")
    inlines = [CategorySubsidyInline]
    scope_through = "policy"


@admin.register(Tier)
class TierAdmin(ScopedAdmin):
    list_display = ("policy", "number", "name", "standard", "student_standard")
    scope_through = "policy"


@admin.register(CategorySubsidy)
class CategorySubsidyAdmin(ScopedAdmin):
    list_display = ("category", "tier", "amount", "percent")
    scope_through = "category__policy"


@admin.register(PhaseTarget)
class PhaseTargetAdmin(ScopedAdmin):
    list_display = ("policy", "name", "due", "rate")
    scope_through = "policy"


@admin.register(PrizeGrade)
class PrizeGradeAdmin(ScopedAdmin):
    list_display = ("policy", "rank", "name", "count", "amount")
    scope_through = "policy"


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedAdmin):
    """The national holiday schedule: no region, so only superusers see and edit it (``scoped``)."""

    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)
