"""A declaration form to draw up, and the tax office's answer to upload."""

from django import forms


class DeclarationForm(forms.Form):
    region = forms.TypedChoiceField(label="申报单位", coerce=int)
    year = forms.IntegerField(label="待遇年度", min_value=2000, max_value=2100)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.full_name if r.level == "township" else f"　{r.name}") for r in regions]


class AnswerForm(forms.Form):
    file = forms.FileField(label="税务回执文件（xlsx/csv）", help_text="列：公民身份号码、结果（成功/失败）、失败原因")
