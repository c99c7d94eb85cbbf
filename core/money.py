"""The one rounding helper for money: yuan with 2 places, half up (never float)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    """The one rounding helper: yuan with 2 places, half up."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
