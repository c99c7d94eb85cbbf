"""Declarations: one FilterSet, shared by the HTML list and the API."""

import django_filters

from core.filters import YearFilter

from ..choices import DeclarationStatus
from ..models import Declaration


class DeclarationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=DeclarationStatus.choices)
    year = YearFilter(label="待遇年度")

    class Meta:
        model = Declaration
        fields = ["status", "year", "township", "village"]
