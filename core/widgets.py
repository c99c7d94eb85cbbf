"""Form widgets every app's forms share.

``DateInput``: an ``<input type="date">`` needs its value as yyyy-MM-dd whatever the locale
(zh-hans would render 2026/12/05, which the browser drops, leaving the field empty)."""

from django import forms
from django_filters.widgets import DateRangeWidget


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateRange(DateRangeWidget):
    """A date range filter on one line: two ``DateInput``s with 至 between them (django-filter's
    default is two text boxes stacked under the label with a bare “-”)."""

    template_name = "widgets/date_range.html"

    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, (DateInput(attrs={"aria-label": "起"}), DateInput(attrs={"aria-label": "止"})), attrs)


class AllYesNo(forms.NullBooleanSelect):
    """A yes/no filter whose unset choice reads 全部 (django's NullBooleanSelect says 未知)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("unknown", "全部"), ("true", "是"), ("false", "否"))
