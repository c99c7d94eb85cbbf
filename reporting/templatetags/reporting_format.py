"""Numbers for Chinese readers: 万 for large counts, money to the yuan (万 only in a county's headline),
percentages with one decimal."""

from decimal import Decimal

from django import template

from reporting import metrics

register = template.Library()


@register.filter
def wan(value):
    return metrics.format_wan(value)


@register.filter
def money(value, level=None):
    """Money to the yuan; ``|money:"county"`` (or a row's level) in 万 for a county's headline."""
    return metrics.format_money(value, level)


@register.filter
def pct(value):
    return metrics.format_percent(value)


@register.filter
def bar(value):
    """Width of a progress bar in % (0–100), for style="width: …%"."""
    if value in (None, ""):
        return "0"
    return f"{min(max(Decimal(str(value)), Decimal(0)), Decimal(100)):.1f}"


@register.filter
def bar_class(value, target):
    """'' on track, 'low' below the phase target, 'bad' more than 20 points below it."""
    if value in (None, "") or target in (None, ""):
        return ""
    gap = Decimal(str(target)) - Decimal(str(value))
    if gap <= 0:
        return ""
    return "bad" if gap > 20 else "low"


@register.filter
def change(value):
    """↑3 / ↓2 / — for a rank change."""
    if value in (None, ""):
        return "新"
    value = int(value)
    if value > 0:
        return f"↑{value}"
    if value < 0:
        return f"↓{-value}"
    return "—"


@register.filter
def dec(value):
    """Decimal from a payload string, for templates."""
    if value in (None, ""):
        return None
    return Decimal(str(value))


@register.filter
def yuan(value):
    if value in (None, ""):
        return "—"
    return f"{Decimal(str(value)):.2f}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
