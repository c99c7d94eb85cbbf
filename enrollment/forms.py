"""Roster forms: thin; the rules live in idcard.py, rules.py and services.py."""

from django import forms
from django.forms import formset_factory

from core import idcard
from core.widgets import DateInput
from subsidies.choices import CoverGroup
from subsidies.models import PolicyYear

from . import rules
from .choices import Relation
from .services import ALLOWED_TIERS, PARTICIPATION_CHOICES, MemberInput, RosterInvalid

TIER_CHOICES = [(t, f"第{t}档") for t in ALLOWED_TIERS]


class HouseholdForm(forms.Form):
    village = forms.ModelChoiceField(label="村/社区", queryset=None, required=True, empty_label="— 选择村/社区 —")
    number = forms.CharField(label="户号", max_length=30, help_text="户口簿上的户号")
    address = forms.CharField(label="住址", max_length=200, required=False)

    def __init__(self, *args, villages=None, fixed_village=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_village is not None:
            del self.fields["village"]
        else:
            self.fields["village"].queryset = villages


class MemberForm(forms.Form):
    person_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="姓名", max_length=50, widget=forms.TextInput(attrs={"size": 6, "aria-label": "姓名", "autocomplete": "off"}))
    id_number = forms.CharField(
        label="身份证号码", max_length=40,
        widget=forms.TextInput(attrs={"size": 20, "autocomplete": "off", "inputmode": "text", "spellcheck": "false",
                                      "aria-label": "身份证号码", "data-id-input": ""}),
    )
    # No default for a new row: a wrong guess (子女) slips through keyboard entry; the first row of
    # a new household starts as 户主 (the view's initial).
    relation = forms.ChoiceField(label="与户主关系", choices=[("", "— 请选择 —"), *Relation.choices],
                                 error_messages={"required": "请选择与户主关系。"},
                                 widget=forms.Select(attrs={"aria-label": "与户主关系"}))
    phone = forms.CharField(label="电话", max_length=20, required=False, widget=forms.TextInput(attrs={"size": 11, "inputmode": "tel", "placeholder": "电话", "aria-label": "电话"}))
    hukou_place = forms.CharField(label="户籍地", max_length=100, required=False, widget=forms.TextInput(attrs={"size": 8, "placeholder": "户籍地", "aria-label": "户籍地"}))
    is_student = forms.BooleanField(label="在校大学生", required=False)
    is_deceased = forms.BooleanField(label="已死亡", required=False)
    deceased_on = forms.DateField(label="死亡日期", required=False, widget=DateInput(attrs={"aria-label": "死亡日期"}))
    deceased_source = forms.CharField(
        label="死亡信息来源", max_length=100, required=False,
        widget=forms.TextInput(attrs={"size": 8, "placeholder": "信息来源", "aria-label": "死亡信息来源"}),
    )
    cover_group = forms.ChoiceField(label="特殊参保人群", choices=[("", "无特殊人群")] + CoverGroup.choices, required=False,
                                    widget=forms.Select(attrs={"aria-label": "特殊参保人群"}))
    cover_group_since = forms.DateField(label="进入机构日期", required=False, widget=DateInput(attrs={"aria-label": "进入机构日期"}))
    participation = forms.ChoiceField(label="本年度参保", choices=PARTICIPATION_CHOICES, required=False, initial=rules.ENROL,
                                      widget=forms.Select(attrs={"aria-label": "本年度参保", "data-participation": ""}))
    reason_note = forms.CharField(label="原因说明", max_length=200, required=False, widget=forms.TextInput(attrs={"size": 10, "placeholder": "原因说明", "aria-label": "原因说明"}))
    tier = forms.TypedChoiceField(label="档次", choices=TIER_CHOICES, coerce=int, initial=1,
                                  widget=forms.Select(attrs={"aria-label": "档次", "data-tier": ""}))

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        try:
            return idcard.parse(raw).number
        except idcard.IdNumberError as exc:
            raise forms.ValidationError(exc.message, code="id_number") from None

    def to_input(self, person=None) -> MemberInput:
        d = self.cleaned_data
        return MemberInput(
            person=person, name=d.get("name", ""), id_number=d.get("id_number", ""), relation=d.get("relation") or Relation.OTHER,
            phone=d.get("phone", ""), hukou_place=d.get("hukou_place", ""), is_student=d.get("is_student", False),
            is_deceased=d.get("is_deceased", False), deceased_on=d.get("deceased_on"),
            deceased_source=d.get("deceased_source", ""), cover_group=d.get("cover_group", ""),
            cover_group_since=d.get("cover_group_since"), participation=d.get("participation", ""),
            reason_note=d.get("reason_note", ""), tier=d.get("tier") or 1, delete=bool(d.get("DELETE")),
        )


MemberFormSet = formset_factory(MemberForm, extra=0, can_delete=True, max_num=40, validate_max=True)


def apply_errors(exc: RosterInvalid, household_form, formset, forms_in_order) -> None:
    """Put a service's errors next to the fields they are about."""
    for field, msgs in exc.household.items():
        target = field if field in household_form.fields else None
        for m in msgs:
            household_form.add_error(target, m)
    for i, errs in exc.members.items():
        form = forms_in_order[i]
        for field, msgs in errs.items():
            target = field if field in form.fields else None
            for m in msgs:
                form.add_error(target, m)
    for m in exc.non_field:
        household_form.add_error(None, m)


class NoticeForm(forms.Form):
    notice_receipt = forms.BooleanField(label="已收回告知书回执", required=False)
    pledge_letter = forms.BooleanField(label="已签承诺书", required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


class CarryOverForm(forms.Form):
    village = forms.ModelChoiceField(label="村/社区", queryset=None, empty_label="— 选择村/社区 —")
    from_year = forms.IntegerField(label="从待遇年度", min_value=2000, max_value=2100)
    to_year = forms.IntegerField(label="转入待遇年度", min_value=2000, max_value=2100)

    def __init__(self, *args, villages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages

    def clean(self):
        data = super().clean()
        if data.get("from_year") and data.get("to_year") and data["to_year"] <= data["from_year"]:
            raise forms.ValidationError("转入年度必须晚于原年度。")
        return data


class TransferForm(forms.Form):
    id_number = forms.CharField(label="身份证号码", max_length=40)
    relation = forms.ChoiceField(label="与户主关系", choices=[c for c in Relation.choices if c[0] != Relation.HEAD])
    note = forms.CharField(label="说明", max_length=200, required=False)


class ImportForm(forms.Form):
    village = forms.ModelChoiceField(label="导入到村/社区", queryset=None, empty_label="— 选择村/社区 —")
    file = forms.FileField(label="花名册文件（.xlsx）")

    def __init__(self, *args, villages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages


ERR_LIST_FILE_REQUIRED = "请选择要导入的名单文件（.xlsx 或 .csv）。"


class IdentityImportForm(forms.Form):
    policy = forms.ModelChoiceField(label="待遇年度", queryset=PolicyYear.objects.none())
    source_list = forms.CharField(label="名单名称", max_length=200, required=False, help_text="如：民政局2024年10月低保名单；不填则用文件名")
    file = forms.FileField(label="名单文件", error_messages={"required": ERR_LIST_FILE_REQUIRED},
                           help_text="列：姓名、身份证号码、资助类别、认定日期")

    def __init__(self, *args, policies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if policies is not None:
            self.fields["policy"].queryset = policies
