from django import forms
from django.utils import timezone

from .choices import RECEIPT_CHANNELS, RefundReason


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class VoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200)


class ReceiptForm(forms.Form):
    """Which members pay, and how. The amounts come from the policy, never from this form."""

    persons = forms.TypedMultipleChoiceField(label="缴费人员", coerce=int, widget=forms.CheckboxSelectMultiple)
    channel = forms.ChoiceField(label="缴费方式", choices=RECEIPT_CHANNELS, initial="cash")
    payer_name = forms.CharField(label="交款人", max_length=50, required=False, help_text="不填则为第一位缴费人")

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
                )
                self.tier_fields.append(name)

    def tiers(self) -> dict:
        return {int(n.split("_")[1]): self.cleaned_data[n] for n in self.tier_fields if self.cleaned_data.get(n)}


class LedgerConfirmForm(forms.Form):
    day = forms.DateField(label="日期", widget=DateInput())
    cash_counted = forms.DecimalField(label="实点现金（元）", max_digits=12, decimal_places=2, min_value=0)
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


class DeclarationForm(forms.Form):
    region = forms.TypedChoiceField(label="申报单位", coerce=int)
    year = forms.IntegerField(label="待遇年度", min_value=2000, max_value=2100)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.full_name if r.level == "township" else f"　{r.name}") for r in regions]


class AnswerForm(forms.Form):
    file = forms.FileField(label="税务回执文件（xlsx/csv）", help_text="列：公民身份号码、结果（成功/失败）、失败原因")


class PostingForm(forms.Form):
    posted_from = forms.DateField(label="张贴开始日期", widget=DateInput())
    posted_until = forms.DateField(label="张贴结束日期", widget=DateInput())
    photo = forms.FileField(label="张贴照片（JPG/PNG）")
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, min_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if min_days:
            self.fields["posted_until"].help_text = f"至少{min_days}个工作日"


class RefundForm(forms.Form):
    reason = forms.ChoiceField(label="退费原因", choices=RefundReason.choices)
    amount = forms.DecimalField(label="退费金额（元）", max_digits=12, decimal_places=2, required=False, help_text="不填为已缴全额")
    evidence = forms.FileField(label="证明材料（JPG/PNG/PDF）")
    note = forms.CharField(label="说明", max_length=300, required=False)


class RefundDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label="审批", choices=[("1", "同意退费"), ("0", "不予退费")], coerce=lambda v: v == "1")
    note = forms.CharField(label="审批意见", max_length=300, required=False)


class RefundPaidForm(forms.Form):
    paid_on = forms.DateField(label="退付日期", widget=DateInput(), initial=timezone.localdate)
    voucher = forms.CharField(label="退付凭证号", max_length=50)
