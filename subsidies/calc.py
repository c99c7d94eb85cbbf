"""Pure rules over plain values: what a resident owes. (When cover starts: see benefit.py.)

No database here. Callers pass the policy's figures as plain values.

Rules (DOMAIN.md "What a resident owes"):
- self-pay = standard for the tier − the single best subsidy (就高不就低, never stacked), ≥ 0;
- an identity certified after the collection window counts from the next year;
- mid-year enrollment (Shizhu: from 1 July): low-income identities keep their subsidy;
  everyone else pays the standard plus the fiscal subsidy and gets no subsidy — except a newborn
  enrolled within the newborn window, who pays only the individual part (``newborn``);
- a resident who paid and is later certified may get the difference back, if the county says so
  (``refund_difference``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import ZERO, to_money  # the one rounding helper; readers in core round too

HUNDRED = Decimal("100")

NOTE_MIDYEAR = "下半年参保：非低收入人口不享受资助，须一次性缴纳个人缴费标准和财政补助标准。"
NOTE_MIDYEAR_LOW_INCOME = "下半年参保：城乡低收入人口保留资助。"
NOTE_LATE_IDENTITY = "身份认定晚于集中征缴期，下一年度起享受资助。"
NOTE_MIDYEAR_NEWBORN = "新生儿在出生后规定期限内独立参保，只缴纳个人应承担的费用，不适用下半年参保规定。"


def percent_of(standard, percent) -> Decimal:
    """A percentage of the standard, resolved to yuan (Gaoyang 90% of 380 → 342.00)."""
    return to_money(Decimal(str(standard)) * Decimal(str(percent)) / HUNDRED)


@dataclass(frozen=True)
class CategoryOffer:
    """One identity a resident holds, with what its category pays for the chosen tier."""

    code: str
    name: str
    amount: Decimal
    certified_on: date | None = None
    applies_to_all: bool = False
    is_low_income: bool = False


@dataclass(frozen=True)
class Owed:
    standard: Decimal
    subsidy: Decimal
    self_pay: Decimal
    category: CategoryOffer | None
    notes: tuple = ()


def counts_this_year(offer: CategoryOffer, window_end: date | None) -> bool:
    """Identities certified after the collection window count only from next year (同缴同补)."""
    if offer.applies_to_all or offer.certified_on is None or window_end is None:
        return True
    return offer.certified_on <= window_end


def best_subsidy(offers, *, window_end: date | None = None) -> CategoryOffer | None:
    """The single best subsidy (就高不就低, never stacked). Identities certified after the
    collection window count only from next year. Ties go to a specific identity over the
    universal one, then to the lowest code (stable)."""
    eligible = [o for o in offers if counts_this_year(o, window_end)]
    if not eligible:
        return None
    return min(eligible, key=lambda o: (-to_money(o.amount), o.applies_to_all, o.code))


def owed(
    standard: Decimal,
    offers,
    *,
    window_end: date | None = None,
    paid_on: date | None = None,
    midyear_from: date | None = None,
    midyear_pays_fiscal_subsidy: bool = False,
    fiscal_subsidy: Decimal | None = None,
    newborn: bool = False,
) -> Owed:
    """Standard for the tier minus the best single subsidy, never below zero.

    With ``paid_on`` on or after ``midyear_from`` and ``midyear_pays_fiscal_subsidy``, a
    resident without a low-income identity owes standard + fiscal subsidy and gets no subsidy.
    A ``newborn`` (paying within the newborn window after birth) is not a mid-year enrollee:
    they pay only the individual part (Shizhu: 独立参保的新生儿，只缴纳个人应承担的费用).
    """
    standard = to_money(standard)
    offers = list(offers)
    notes = []
    if window_end is not None and any(not counts_this_year(o, window_end) for o in offers):
        notes.append(NOTE_LATE_IDENTITY)
    midyear = paid_on is not None and midyear_from is not None and paid_on >= midyear_from and midyear_pays_fiscal_subsidy
    if midyear and newborn:
        notes.append(NOTE_MIDYEAR_NEWBORN)
    elif midyear:
        low_income = [o for o in offers if o.is_low_income and counts_this_year(o, window_end)]
        if low_income:
            offers = low_income
            notes.append(NOTE_MIDYEAR_LOW_INCOME)
        else:
            full = to_money(standard + to_money(fiscal_subsidy or 0))
            notes.append(NOTE_MIDYEAR)
            return Owed(standard=full, subsidy=ZERO, self_pay=full, category=None, notes=tuple(notes))
    best = best_subsidy(offers, window_end=window_end)
    subsidy = min(to_money(best.amount), standard) if best else ZERO
    return Owed(standard=standard, subsidy=subsidy, self_pay=max(standard - subsidy, ZERO), category=best, notes=tuple(notes))


def refund_difference(
    *,
    standard: Decimal,
    paid: Decimal,
    paid_subsidy: Decimal,
    offers,
    certified_on: date,
    window_end: date,
    refunds_difference: bool,
    only_if_paid_in_full: bool = False,
    after_window: bool = False,
) -> Decimal:
    """What is refunded when a resident who already paid ``paid`` (having received ``paid_subsidy``)
    is certified with new identities (``offers``) on ``certified_on``.

    - no refund unless the county refunds differences (Neixiang, Jiangnan: not provided);
    - certified after the window: refunded only where the county says so (Gaoyang);
      otherwise the identity counts from next year;
    - Shizhu: only a resident who paid in full (no subsidy) is subsidised after the fact;
      after a subsidised payment there is no difference (不再进行差额资助).
    The refund is what they paid minus what they would owe now, never below zero.
    """
    if not refunds_difference:
        return ZERO
    if certified_on > window_end and not after_window:
        return ZERO
    if only_if_paid_in_full and to_money(paid_subsidy) > ZERO:
        return ZERO
    # The new certification is considered regardless of the window here (the after-window case
    # was allowed above), so drop the window check when choosing the best offer.
    now = owed(standard, offers)
    return max(to_money(paid) - now.self_pay, ZERO)
