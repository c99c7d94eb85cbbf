"""Reads of publicity: the rows a village posts."""

from __future__ import annotations

from core import idcard
from core.models import Region

from ..choices import ReceiptStatus
from ..models import ReceiptLine


def publicity_rows(*, village: Region, year: int) -> list[dict]:
    """The paid list of a village: name, last 4 ID digits, tier, amount (valid receipts only)."""
    lines = (
        ReceiptLine.objects.filter(receipt__village=village, receipt__year=year, receipt__status=ReceiptStatus.VALID)
        .order_by("receipt__issued_at", "id")
        .values("name", "id_number", "person__id_number", "tier", "amount", "receipt__issued_on")
    )
    # The person's current ID number: a number corrected after payment (a failed declaration
    # row fixed against the ID card) is posted as corrected, not as typed on the receipt.
    return [
        {
            "name": ln["name"],
            "last4": idcard.last4(ln["person__id_number"] or ln["id_number"]),
            "tier": ln["tier"],
            "amount": ln["amount"],
            "paid_on": ln["receipt__issued_on"],
        }
        for ln in lines
    ]
