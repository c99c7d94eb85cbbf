"""Refunds: one FilterSet, shared by the HTML list and the API."""

import django_filters

from subsidies.choices import RefundReason

from ..choices import RefundStatus
from ..models import Refund


class RefundFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=RefundStatus.choices)
    reason = django_filters.ChoiceFilter(label="原因", choices=RefundReason.choices)

    class Meta:
        model = Refund
        fields = ["status", "reason", "village"]
