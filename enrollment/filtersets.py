"""One FilterSet per model: the roster page, the API and the xlsx export filter the same way."""

import django_filters
from django.db.models import Q

from core import disclosure
from core.choices import RegionLevel
from core.filters import IdFilter, YearFilter
from core.models import Region

from . import selectors
from .choices import EnrollmentStatus, ExclusionReason
from .models import Enrollment, Household, Person, PersonIdentity

GAP = "gap"
NONE = "none"
STATUS_FILTER_CHOICES = [(GAP, "缺口（既未缴费也无原因）")] + list(EnrollmentStatus.choices)


def _regions(request, level):
    user = getattr(request, "user", None)
    return Region.objects.visible_to(user).filter(level=level) if user is not None else Region.objects.none()


def _villages(request):
    return _regions(request, RegionLevel.VILLAGE)


def _townships(request):
    return _regions(request, RegionLevel.TOWNSHIP)


class PersonFilterSet(django_filters.FilterSet):
    """Works on ``selectors.persons_with_status`` (annotated with ``year_status``)."""

    q = django_filters.CharFilter(label="姓名/身份证号/户号", method="filter_q")
    # ``search``, the name API clients (and DRF's convention) try first: the same search, never
    # a silently ignored parameter that answers with everyone.
    search = django_filters.CharFilter(label="姓名/身份证号/户号（同 q）", method="filter_q")
    village = django_filters.ModelChoiceFilter(label="村/社区", field_name="household__village", queryset=_villages)
    township = django_filters.ModelChoiceFilter(label="乡镇/街道", field_name="household__village__parent", queryset=_townships)
    household = IdFilter(label="户", field_name="household_id")
    status = django_filters.ChoiceFilter(label="本年度状态", choices=STATUS_FILTER_CHOICES, method="filter_status", empty_label="全部")
    deceased = django_filters.BooleanFilter(label="已死亡", field_name="is_deceased")

    class Meta:
        model = Person
        fields = ["q", "search", "village", "township", "household", "status", "deceased"]

    def filter_q(self, queryset, name, value):
        return selectors.roster_search(queryset, value, viewer=getattr(self.request, "user", None))

    def filter_status(self, queryset, name, value):
        if value == GAP:
            return queryset.filter(selectors.gap_condition("year_status"))
        return queryset.filter(year_status=value)


class HouseholdFilterSet(django_filters.FilterSet):
    village = django_filters.ModelChoiceFilter(label="村/社区", queryset=_villages)
    number = django_filters.CharFilter(label="户号")
    q = django_filters.CharFilter(label="户号/住址/成员姓名", method="filter_q")

    class Meta:
        model = Household
        fields = ["village", "number", "q"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        ids = Person.objects.filter(name__contains=value).values("household_id")
        return queryset.filter(Q(number=value) | Q(address__contains=value) | Q(pk__in=ids))


class EnrollmentFilterSet(django_filters.FilterSet):
    year = YearFilter(label="待遇年度")
    status = django_filters.MultipleChoiceFilter(label="状态", choices=EnrollmentStatus.choices)
    exclusion_reason = django_filters.ChoiceFilter(label="不参保原因", choices=ExclusionReason.choices)
    village = django_filters.ModelChoiceFilter(label="参保地", queryset=_villages)
    person = IdFilter(label="参保人", field_name="person_id")
    household = IdFilter(label="户", field_name="person__household_id")

    class Meta:
        model = Enrollment
        fields = ["year", "status", "exclusion_reason", "village", "person", "household"]


class IdentityFilterSet(django_filters.FilterSet):
    year = YearFilter(label="待遇年度")
    category = IdFilter(field_name="category_id", label="资助类别")
    q = django_filters.CharFilter(method="search", label="姓名或身份证号")
    source_list = django_filters.CharFilter(lookup_expr="icontains", label="来源名单")

    class Meta:
        model = PersonIdentity
        fields = ["year", "category", "source_list"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if any(ch.isdigit() for ch in value):
            shown = disclosure.for_viewer(getattr(self.request, "user", None))
            return queryset.filter(disclosure.id_lookup("person__id_number", value.upper(), shown))
        return queryset.filter(person__name__contains=value)
