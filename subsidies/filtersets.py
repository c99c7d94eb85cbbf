"""One FilterSet per model, shared by the HTML lists and the API."""

import django_filters

from core.choices import Department
from core.filters import YearFilter

from .models import PolicyYear, SubsidyCategory


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
