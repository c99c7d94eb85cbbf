"""Reads for tax imports, always scoped to the user."""

from __future__ import annotations

from django.db.models import Q

from enrollment.choices import RegionLevel

from ..models.tax_imports import PROBLEM_OUTCOMES, TaxImport, TaxImportRow, TaxImportStatus


def tax_import_list(*, user):
    return TaxImport.objects.visible_to(user).select_related("county", "uploaded_by", "applied_by")


def tax_import_rows(*, user, tax_import: TaxImport, outcome: str | None = None):
    qs = TaxImportRow.objects.visible_to(user).filter(tax_import=tax_import, outcome__in=PROBLEM_OUTCOMES)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.select_related("township").order_by("row_number")


def refund_candidates(*, user):
    """Duplicate payments found by applied tax imports (paid online and in cash, paid twice…):
    for the refunds workflow. County users see their county; township and village users the rows
    of their township (resolved from the person's village, or from the 参保地 column)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return TaxImportRow.objects.none()
    qs = TaxImportRow.objects.filter(refund_candidate=True, tax_import__status=TaxImportStatus.APPLIED)
    if user.is_superuser:
        return qs
    region = getattr(user, "region", None)
    if region is None:
        return qs.none()
    if region.level == RegionLevel.COUNTY:
        qs = qs.filter(tax_import__county=region)
    elif region.level == RegionLevel.TOWNSHIP:
        qs = qs.filter(township=region)
    else:
        qs = qs.filter(Q(enrollment__village=region) | Q(person__household__village=region))
    return qs.select_related("person", "enrollment", "tax_import").order_by("-tax_import_id", "row_number")
