from django import template

from core import disclosure

from .. import rules
from ..choices import EnrollmentStatus, ExclusionReason

register = template.Library()


@register.filter
def masked(number):
    """411325********1234: a list or page that shows full numbers to no one."""
    return disclosure.MASKED.id_number(number)


@register.filter
def birth_for(born, user):
    """``{{ born|birth_for:user }}``: 1980年5月17日 for roles that may see full ID numbers,
    1980年 for everyone else (the mask hides exactly the birth date)."""
    return disclosure.for_viewer(user).birth_text(born)


@register.filter
def money(value):
    if value is None or value == "":
        return ""
    return f"{value:.2f}"


@register.filter
def is_gap(person) -> bool:
    """``{{ p|is_gap }}`` for a roster row (annotated with ``year_status``): ``rules.is_gap``."""
    return rules.is_gap(is_deceased=person.is_deceased, status=getattr(person, "year_status", None))


@register.filter
def status_label(value):
    try:
        return EnrollmentStatus(value).label
    except ValueError:
        return ""


@register.filter
def reason_label(value):
    try:
        return ExclusionReason(value).label
    except ValueError:
        return ""


@register.filter
def query_items(query):
    """(name, value) pairs of a query dict. ``request.GET.items`` in a template looks up a
    parameter named ``items`` first, so ``?items=x`` would hand the loop a string."""
    return list(query.items())
