"""The cash desk's forms: a receipt, its void, the day's ledger, a remittance."""

from django import forms
from django.utils import timezone

from core.widgets import DateInput

from ..choices import RECEIPT_CHANNELS


class VoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200)


class ReceiptForm(forms.Form):
    """Which members pay, and how. The amounts come from the policy, never from this form."""

    persons = forms.TypedMultipleChoiceField(label="缴费人员", coerce=int, widget=forms.CheckboxSelectMultiple)
    channel = forms.ChoiceField(label="缴费方式", choices=RECEIPT_CHANNELS, initial="cash")
    payer_name = forms.CharField(label="交款人", max_length=50, required=False, help_text="不填则为第一位缴费人")
    tendered = forms.DecimalField(
        label="实收（元）", max_digits=12, decimal_places=2, min_value=0, required=False,
        help_text="收到的现金；填写后显示找零，少于应收合计不能开票",
    )
    # Set by the confirmation page (one per page shown): the same form sent twice issues once.
    request_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, members=(), tier_choices=(), current_tiers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["persons"].choices = [(m.pk, m.name) for m in members]
        self.tier_fields = []
        if len(tier_choices) > 1:
            for m in members:
                name = f"tier_{m.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    label=f"{m.name}档次", choices=tier_choices, coerce=int, required=False,
                    initial=(current_tiers or {}).get(m.pk, 1),
                    widget=forms.Select(attrs={"aria-label": f"{m.name}档次"}),
                )
                self.tier_fields.append(name)

    def tiers(self) -> dict:
        return {int(n.split("_")[1]): self.cleaned_data[n] for n in self.tier_fields if self.cleaned_data.get(n)}


class LedgerConfirmForm(forms.Form):
    day = forms.DateField(label="日期", widget=DateInput())
    cash_counted = forms.DecimalField(label="实点现金（元）", max_digits=12, decimal_places=2, min_value=0,
                                      help_text="请清点手中现金后填写实点金额；确认后系统显示应有现金和差额。")
    note = forms.CharField(label="说明", max_length=200, required=False)


class RemittanceForm(forms.Form):
    deposited_on = forms.DateField(label="解缴日期", widget=DateInput(), initial=timezone.localdate)
    amount = forms.DecimalField(label="解缴金额（元）", max_digits=12, decimal_places=2, min_value=0.01)
    slip_number = forms.CharField(label="银行回单号", max_length=50)
    receipts = forms.TypedMultipleChoiceField(label="所含收款凭证", coerce=int, widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, receipts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receipts"].choices = [(r.pk, f"{r.number} {r.payer_name} {r.total}元") for r in receipts]
