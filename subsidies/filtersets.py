"""One FilterSet per model, shared by the HTML lists and the API."""

import django_filters

from core import disclosure
from core.choices import Department
from core.filters import IdFilter, YearFilter

from .models import PersonIdentity, PolicyYear, SubsidyCategory


class PolicyYearFilterSet(django_filters.FilterSet):
    county = django_filters.CharFilter(field_name="county__code", label="县/区编码")
    year = YearFilter(label="待遇年度")

    class Meta:
        model = PolicyYear
        fields = ["county", "year"]


class SubsidyCategoryFilterSet(django_filters.FilterSet):
    county = django_filters.CharFilter(field_name="policy__county__code", label="县/区编码")
    year = YearFilter(field_name="policy__year", label="待遇年度")
    department = django_filters.ChoiceFilter(choices=Department.choices, label="认定部门")

    class Meta:
        model = SubsidyCategory
        fields = ["county", "year", "department"]


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
