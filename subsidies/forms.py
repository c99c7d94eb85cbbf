from django import forms

from core.widgets import DateInput

from .choices import CoverGroup, RefundReason
from .models import PolicyYear, SubsidyCategory
from .models.policy import FROM_PAYMENT_GROUPS

DATE = DateInput()
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

class QuoteForm(forms.Form):
    """The public calculator. Choices are filled from the policies on record."""

    county = forms.ChoiceField(label="县/区")
    year = forms.TypedChoiceField(label="待遇年度", coerce=int)
    tier = forms.TypedChoiceField(label="缴费档次", coerce=int, required=False)
    categories = forms.MultipleChoiceField(label="资助身份（可多选，按最高一项计算）", required=False, widget=forms.CheckboxSelectMultiple)
    student = forms.BooleanField(label="在校大学生", required=False)
    paid_on = forms.DateField(label="缴费日期", required=False, widget=DATE)
    birth_date = forms.DateField(label="出生日期（新生儿填写）", required=False, widget=DATE)
    registered_on = forms.DateField(label="参保登记日期", required=False, widget=DATE)
    parent_insured = forms.BooleanField(label="父或母已参保（新生儿）", required=False)
    break_years = forms.IntegerField(label="断保年数", min_value=0, max_value=50, required=False, initial=0)
    backpaid_years = forms.IntegerField(label="补缴年数", min_value=0, max_value=50, required=False, initial=0)
    cover_group = forms.ChoiceField(label="特殊参保人群", choices=[("", "无")] + CoverGroup.choices, required=False)
    cover_group_since = forms.DateField(label="进入儿童福利机构日期", required=False, widget=DATE)
    continuous_years = forms.IntegerField(label="此前已连续参保年数", min_value=0, max_value=100, required=False)
    zero_claim_last_year = forms.BooleanField(label="上年度医保基金零报销", required=False)

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        policies = list(policies)
        counties = []
        for p in policies:
            if (p.county.code, p.county.name) not in counties:
                counties.append((p.county.code, p.county.name))
        self.fields["county"].choices = counties
        code = self.data.get("county") or (counties[0][0] if counties else None)
        mine = [p for p in policies if p.county.code == code]
        self.fields["year"].choices = [(p.year, f"{p.year}年度") for p in mine]
        year = self.data.get("year")
        policy = next((p for p in mine if str(p.year) == str(year)), mine[0] if mine else None)
        self.policy = policy
        if policy is not None:
            self.fields["tier"].choices = [(t.number, f"{t.name}（{t.standard}元）") for t in policy.tiers.all()]
            self.fields["categories"].choices = [(c.code, c.name) for c in policy.categories.all() if not c.applies_to_all]
            if self.is_bound and hasattr(self.data, "getlist"):
                # After switching county (auto-submit), carry over only what the new policy offers.
                data = self.data.copy()
                data["year"] = str(policy.year)
                if data.get("tier") not in {str(t) for t, _ in self.fields["tier"].choices}:
                    data["tier"] = str(self.fields["tier"].choices[0][0]) if self.fields["tier"].choices else ""
                codes = {c for c, _ in self.fields["categories"].choices}
                data.setlist("categories", [c for c in data.getlist("categories") if c in codes])
                self.data = data


class PolicyYearForm(forms.ModelForm):
    # Ticked, not typed: the JSON list of group codes is what the model stores.
    from_payment_groups = forms.MultipleChoiceField(
        label=PolicyYear._meta.get_field("from_payment_groups").verbose_name,
        help_text=PolicyYear._meta.get_field("from_payment_groups").help_text,
        choices=[(g, CoverGroup(g).label) for g in FROM_PAYMENT_GROUPS], required=False, widget=forms.CheckboxSelectMultiple,
    )

    refund_reasons = forms.MultipleChoiceField(
        label=PolicyYear._meta.get_field("refund_reasons").verbose_name,
        help_text=PolicyYear._meta.get_field("refund_reasons").help_text,
        choices=RefundReason.choices, required=False, widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PolicyYear
        exclude = ["county", "year"]
        widgets = {
            "window_start": DATE, "window_end": DATE, "extension_end": DATE, "midyear_from": DATE,
            "weekly_reports_from": DATE, "daily_reports_from": DATE, "refund_deadline": DATE,
            "daily_cutoff": TIME, "notes": forms.Textarea(attrs={"rows": 6}),
        }


class TierForm(forms.Form):
    number = forms.IntegerField(label="档次", min_value=1, max_value=9)
    name = forms.CharField(label="名称", max_length=20)
    standard = forms.DecimalField(label="个人缴费标准", max_digits=12, decimal_places=2, min_value=0)
    student_standard = forms.DecimalField(label="大学生标准", max_digits=12, decimal_places=2, min_value=0, required=False)


TierFormSet = forms.formset_factory(TierForm, extra=1, can_delete=True)


class PhaseTargetForm(forms.Form):
    name = forms.CharField(label="阶段", max_length=50)
    due = forms.DateField(label="截止日期", widget=DATE)
    rate = forms.DecimalField(label="目标（%）", max_digits=5, decimal_places=2, min_value=0, max_value=100)


PhaseTargetFormSet = forms.formset_factory(PhaseTargetForm, extra=1, can_delete=True)


class PrizeGradeForm(forms.Form):
    rank = forms.IntegerField(label="等次", min_value=1, max_value=20)
    name = forms.CharField(label="名称", max_length=20)
    count = forms.IntegerField(label="名额", min_value=0, required=False)
    amount = forms.DecimalField(label="每个奖金（元）", max_digits=12, decimal_places=2, min_value=0, required=False)


PrizeGradeFormSet = forms.formset_factory(PrizeGradeForm, extra=1, can_delete=True)


class CopyPolicyForm(forms.Form):
    year = forms.IntegerField(label="新年度", min_value=2000, max_value=2100)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = SubsidyCategory
        fields = ["code", "name", "department", "department_label", "applies_to_all", "is_low_income", "is_special_group", "sort_order"]

    def __init__(self, *args, tiers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = list(tiers)
        current = {a.tier: a for a in self.instance.amounts.all()} if self.instance.pk else {}
        for t in self.tiers:
            a = current.get(t.number)
            self.fields[f"amount_{t.number}"] = forms.DecimalField(
                label=f"{t.name}资助金额（元）", max_digits=12, decimal_places=2, min_value=0, required=False,
                initial=a.amount if a else None,
            )
            self.fields[f"percent_{t.number}"] = forms.DecimalField(
                label=f"{t.name}资助比例（%）", max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False,
                initial=a.percent if a else None, help_text="填比例时按缴费标准折算成金额保存",
            )

    def amounts(self) -> dict:
        return {
            t.number: {"amount": self.cleaned_data.get(f"amount_{t.number}"), "percent": self.cleaned_data.get(f"percent_{t.number}")}
            for t in self.tiers
        }


class CalendarDaysForm(forms.Form):
    start = forms.DateField(label="开始日期", widget=DATE)
    end = forms.DateField(label="结束日期", widget=DATE, required=False, help_text="只录一天的可不填")
    is_workday = forms.TypedChoiceField(label="安排", choices=[("0", "放假"), ("1", "调休上班")], coerce=lambda v: v == "1")
    name = forms.CharField(label="名称", max_length=30, required=False, widget=forms.TextInput(attrs={"placeholder": "如 春节"}))
