"""What the cash trail's pages share: error messages into forms, paging, the household link."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse

PAGE_SIZE = 50


def error_messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def add_form_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for fld, errs in exc.message_dict.items():
            form.add_error(fld if fld in form.fields else None, errs)
    else:
        for m in exc.messages:
            form.add_error(None, m)


def household_url(pk) -> str:
    try:
        return reverse("enrollment:household_detail", args=[pk])
    except NoReverseMatch:
        return f"/households/{pk}/"


def page_of(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
