"""Pure rules of the cash trail: the double limit, ledger and remittance checks (working days:
``subsidies.workdays``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import ZERO, to_money


@dataclass(frozen=True)
class DoubleLimit:
    """Where a collector's unremitted cash stands against the 双限 rule."""

    amount: Decimal
    oldest: date | None
    days_held: int
    days_overdue: int
    over_amount: bool
    over_days: bool

    @property
    def breached(self) -> bool:
        return self.over_amount or self.over_days


def double_limit(items, *, today: date, remit_days: int | None, remit_amount: Decimal | None) -> DoubleLimit:
    """``items``: (collected_on, amount) of cash not yet remitted.

    Cash must be remitted within ``remit_days`` days of collection, or as soon as it reaches
    ``remit_amount`` yuan, whichever comes first. Cash collected on day D is overdue from
    day D + remit_days + 1; ``days_overdue`` counts from there for the oldest unremitted cash.
    A limit the county's policy does not set (None) is never breached.
    """
    items = [(d, Decimal(a)) for d, a in items if Decimal(a) > 0]
    amount = sum((a for _, a in items), ZERO)
    if not items:
        return DoubleLimit(ZERO, None, 0, 0, False, False)
    oldest = min(d for d, _ in items)
    held = (today - oldest).days
    overdue = max(held - remit_days, 0) if remit_days is not None else 0
    return DoubleLimit(
        amount=amount,
        oldest=oldest,
        days_held=held,
        days_overdue=overdue,
        over_amount=remit_amount is not None and amount >= Decimal(remit_amount),
        over_days=overdue > 0,
    )


def remittance_difference(amount: Decimal, covered: Decimal) -> Decimal:
    """Positive: more was deposited than the receipts cover (over-remitted); negative: under."""
    return Decimal(amount) - Decimal(covered)


def change_due(*, total: Decimal, tendered: Decimal | None) -> Decimal | None:
    """找零: cash handed over less the receipt's total (negative when short); ``None`` when the
    clerk typed no 实收."""
    if tendered is None:
        return None
    return to_money(tendered) - to_money(total)
