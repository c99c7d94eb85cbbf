"""Filters every FilterSet uses for ids and years: bounded, so a huge number is a form error."""

import django_filters
from django import forms

from core.params import ID_MAX, MAX_YEAR, MIN_YEAR


class IdFilter(django_filters.Filter):
    """A row's id (household, person, category…): a whole number from 1 to ``ID_MAX`` (a larger
    one is a form error, not an overflow in the database driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.Filter):
    """A benefit year, within the years every page accepts (``core.params``)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(*args, **kwargs)
