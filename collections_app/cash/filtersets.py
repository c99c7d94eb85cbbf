"""Receipts and remittances: one FilterSet each, shared by the HTML lists, the API and exports."""

import django_filters
from django import forms
from django.db.models import Q

from core import disclosure
from core.filters import YearFilter
from core.models import Region, User
from core.widgets import AllYesNo, DateRange

from ..choices import RECEIPT_CHANNELS, ReceiptStatus
from ..models import Receipt, Remittance
from .selectors import unremitted_cash


class PersonChoiceField(forms.ModelChoiceField):
    """Users listed by the name people know them by (谭晓梅), not their login (tan_xiaomei)."""

    def label_from_instance(self, obj):
        return obj.display_name


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class ReceiptFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="凭证号/姓名/户号", method="search")
    status = django_filters.ChoiceFilter(label="状态", choices=ReceiptStatus.choices)
    channel = django_filters.ChoiceFilter(label="缴费方式", choices=RECEIPT_CHANNELS)
    village = django_filters.ModelChoiceFilter(label="村/社区", queryset=Region.objects.villages())
    year = YearFilter(label="待遇年度")
    issued_on = django_filters.DateFromToRangeFilter(label="收款日期", widget=DateRange())
    unremitted = django_filters.BooleanFilter(label="未报解现金", method="filter_unremitted", widget=AllYesNo())
    collector = PersonFilter(label="收款人", queryset=User.objects.filter(role__in=["collector", "township"]))

    class Meta:
        model = Receipt
        fields = ["q", "status", "channel", "village", "year", "issued_on", "collector", "unremitted"]

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(number__icontains=value) | Q(payer_name__contains=value) | Q(household__number=value)
            | Q(lines__name__contains=value)
            | disclosure.id_lookup("lines__id_number", value.upper(), disclosure.for_viewer(getattr(self.request, "user", None)))
        ).distinct()

    def filter_unremitted(self, qs, name, value):
        if value is None:
            return qs
        return unremitted_cash(qs) if value else qs.exclude(pk__in=unremitted_cash(qs).values("pk"))


class RemittanceFilterSet(django_filters.FilterSet):
    deposited_on = django_filters.DateFromToRangeFilter(label="解缴日期", widget=DateRange())
    slip_number = django_filters.CharFilter(label="银行回单号", lookup_expr="icontains")

    class Meta:
        model = Remittance
        fields = ["collector", "deposited_on", "slip_number"]
