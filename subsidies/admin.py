from django.contrib import admin

from enrollment.admin import ScopedAdmin

from .models import CategorySubsidy, PersonIdentity, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier


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
class SubsidyCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "policy", "department", "applies_to_all")
    list_filter = ("policy",)
    inlines = [CategorySubsidyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(policy__in=PolicyYear.objects.visible_to(request.user))


@admin.register(PersonIdentity)
class PersonIdentityAdmin(ScopedAdmin):
    list_display = ("person", "category", "year", "certified_on", "source_list")
    list_filter = ("year",)
    raw_id_fields = ("person",)
