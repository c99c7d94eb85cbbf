"""Reads for tax imports, always scoped to the user."""

from __future__ import annotations

from django.db.models import Count, Q

from core.choices import ImportStatus, RegionLevel

from ..models.tax_imports import PROBLEM_OUTCOMES, TaxImport, TaxImportRow


def tax_import_list(*, user):
    return TaxImport.objects.visible_to(user).select_related("county", "uploaded_by", "applied_by")


def tax_import_rows(*, user, tax_import: TaxImport, outcome: str | None = None):
    qs = TaxImportRow.objects.visible_to(user).filter(tax_import=tax_import, outcome__in=PROBLEM_OUTCOMES)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.select_related("township").order_by("row_number")


def _township_of(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    region = getattr(user, "region", None)
    return region if region is not None and region.level == RegionLevel.TOWNSHIP else None


def problem_owner(user):
    """The region whose list of problem rows the user works: a township clerk's township; for the
    county (bureau, tax office) the county, which owns the rows no township does. None: no list."""
    township = _township_of(user)
    if township is not None:
        return township if user.can("declaration.manage") else None
    region = getattr(user, "region", None) if user is not None and user.is_authenticated and user.is_active else None
    if region is not None and region.level == RegionLevel.COUNTY and user.can("taximport.unowned"):
        return region
    return None


def _owned(owner):
    """The problem rows of the applied imports of the owner's county that are the owner's."""
    if owner is None:
        return TaxImportRow.objects.none()
    if owner.level == RegionLevel.TOWNSHIP:
        mine = Q(township=owner, tax_import__county_id=owner.parent_id)
    else:
        mine = Q(township__isnull=True, tax_import__county=owner)
    return TaxImportRow.objects.filter(mine, tax_import__status=ImportStatus.APPLIED, outcome__in=PROBLEM_OUTCOMES)


def township_problem_rows(*, user, tax_import_id: int | None = None, outcome: str | None = None):
    """Problem rows for a township to fix (unknown persons, amounts, duplicates, invalid rows): the
    rows of applied imports of the user's county that belong to the user's township — resolved
    from the person's village, or from the file's 乡镇/参保地 columns. Rows that name no township
    of the county are the county's (bureau, tax office: ``problem_owner``), so every row has an
    owner. Only applied imports (a preview may still be abandoned); anyone else sees nothing."""
    qs = _owned(problem_owner(user))
    if tax_import_id:
        qs = qs.filter(tax_import_id=tax_import_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.select_related("township", "tax_import").order_by("-tax_import_id", "row_number")


def township_imports(*, user):
    """The applied imports of the user's county with problem rows of the user's list
    (``problem_owner``), newest first, each with ``problem_rows`` (how many)."""
    owner = problem_owner(user)
    if owner is None:
        return TaxImport.objects.none()
    if owner.level == RegionLevel.TOWNSHIP:
        mine, county_id = Q(rows__township=owner, rows__outcome__in=PROBLEM_OUTCOMES), owner.parent_id
    else:
        mine, county_id = Q(rows__township__isnull=True, rows__outcome__in=PROBLEM_OUTCOMES), owner.pk
    return (
        TaxImport.objects.filter(county_id=county_id, status=ImportStatus.APPLIED)
        .annotate(problem_rows=Count("rows", filter=mine))
        .filter(problem_rows__gt=0)
        .order_by("-created_at", "-id")
    )


def refund_candidates(*, user):
    """Duplicate payments found by applied tax imports (paid online and in cash, paid twice…):
    for the refunds workflow. County users see their county; township and village users the rows
    of their township (resolved from the person's village, or from the 参保地 column)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return TaxImportRow.objects.none()
    qs = TaxImportRow.objects.filter(refund_candidate=True, tax_import__status=ImportStatus.APPLIED)
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
