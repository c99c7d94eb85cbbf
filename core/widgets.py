"""Form widgets every app's forms share.

``DateInput``: an ``<input type="date">`` needs its value as yyyy-MM-dd whatever the locale
(zh-hans would render 2026/12/05, which the browser drops, leaving the field empty)."""

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
