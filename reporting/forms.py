from django import forms

from core.widgets import DateInput

from .models import ReportKind, WeeklyNote


class NoteForm(forms.ModelForm):
    class Meta:
        model = WeeklyNote
        fields = ["good_practices", "problems", "suggestions"]
        widgets = {f: forms.Textarea(attrs={"rows": 4}) for f in ["good_practices", "problems", "suggestions"]}


class RunForm(forms.Form):
    what = forms.ChoiceField(label="生成", choices=ReportKind.choices)
    day = forms.DateField(label="日期", widget=DateInput())
