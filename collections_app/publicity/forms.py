"""A village's posting of the payers' list."""

from django import forms

from core.widgets import DateInput


class PostingForm(forms.Form):
    posted_from = forms.DateField(label="张贴开始日期", widget=DateInput())
    posted_until = forms.DateField(label="张贴结束日期", widget=DateInput())
    photo = forms.FileField(label="张贴照片（JPG/PNG）")
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, min_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if min_days:
            self.fields["posted_until"].help_text = f"至少{min_days}个工作日"
