"""Pure rules over plain values: what a resident owes. (When cover starts: see benefit.py.)

No database here. Callers pass the policy's figures as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    """The one rounding helper: yuan with 2 places, half up."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CategoryOffer:
    """One identity a resident holds, with what its category pays for the chosen tier."""

    code: str
    name: str
    amount: Decimal
    certified_on: date | None = None
    applies_to_all: bool = False


@dataclass(frozen=True)
class Owed:
    standard: Decimal
    subsidy: Decimal
    self_pay: Decimal
    category: CategoryOffer | None


def best_subsidy(offers, *, window_end: date | None = None) -> CategoryOffer | None:
    """The single best subsidy (就高不就低, never stacked). Identities certified after the
    collection window count only from next year."""
    eligible = [
        o for o in offers if o.applies_to_all or o.certified_on is None or window_end is None or o.certified_on <= window_end
    ]
    if not eligible:
        return None
    return max(eligible, key=lambda o: (o.amount, not o.applies_to_all, o.code))


def owed(standard: Decimal, offers, *, window_end: date | None = None) -> Owed:
    """Standard for the tier minus the best single subsidy, never below zero."""
    standard = to_money(standard)
    best = best_subsidy(offers, window_end=window_end)
    subsidy = min(to_money(best.amount), standard) if best else ZERO
    return Owed(standard=standard, subsidy=subsidy, self_pay=max(standard - subsidy, ZERO), category=best)
