"""A refund's application, decision and payment."""

from django import forms
from django.utils import timezone

from core.widgets import DateInput
from subsidies.choices import RefundReason


class RefundForm(forms.Form):
    """The page offers the county's refund reasons for the enrollment's year (``reasons``); the
    service refuses any other, with a message naming the county's (``refund_services.refund_apply``)."""

    reason = forms.ChoiceField(label="退费原因", choices=RefundReason.choices)
    amount = forms.DecimalField(label="退费金额（元）", max_digits=12, decimal_places=2, required=False, help_text="不填为已缴全额")
    evidence = forms.FileField(label="证明材料（JPG/PNG/PDF）")
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.choices = reasons


class RefundDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label="审批", choices=[("1", "同意退费"), ("0", "不予退费")], coerce=lambda v: v == "1")
    note = forms.CharField(label="审批意见", max_length=300, required=False)


class RefundPaidForm(forms.Form):
    paid_on = forms.DateField(label="退付日期", widget=DateInput(), initial=timezone.localdate)
    voucher = forms.CharField(label="退付凭证号", max_length=50)
