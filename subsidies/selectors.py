"""Read the policy data and apply the pure rules in calc.py and benefit.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from enrollment.models import Person, Region

from . import benefit, calc
from .models import CategorySubsidy, PersonIdentity, PolicyYear, SubsidyCategory, Tier

ERR_NO_POLICY = "{county}尚未设置{year}年度征缴政策。"
ERR_NO_TIER = "{year}年度没有第{tier}档。"
ERR_NO_COUNTY = "没有编码为“{code}”的县/区。"
ERR_UNKNOWN_CATEGORY = "{year}年度没有资助类别“{name}”。"


class PolicyMissing(LookupError):
    pass


def policy_for(*, county, year: int) -> PolicyYear:
    try:
        return PolicyYear.objects.select_related("county").get(county=county, year=year)
    except PolicyYear.DoesNotExist:
        raise PolicyMissing(ERR_NO_POLICY.format(county=county.name, year=year)) from None


def policy_by_code(*, county_code: str, year: int) -> PolicyYear:
    county = Region.objects.filter(code=county_code, level="county").first()
    if county is None:
        raise PolicyMissing(ERR_NO_COUNTY.format(code=county_code))
    return policy_for(county=county, year=year)


def tier_standard(policy: PolicyYear, tier: int, *, student: bool = False):
    try:
        t = policy.tiers.get(number=tier)
    except Tier.DoesNotExist:
        raise PolicyMissing(ERR_NO_TIER.format(year=policy.year, tier=tier)) from None
    return t.student_standard if student and t.student_standard is not None else t.standard


def categories_named(policy: PolicyYear, names) -> list[SubsidyCategory]:
    """Categories of ``policy`` by code or by their Chinese name (as the seed writes it)."""
    wanted = [n.strip() for n in names if n and n.strip()]
    if not wanted:
        return []
    cats = list(SubsidyCategory.objects.filter(policy=policy))
    found = []
    for name in wanted:
        match = next((c for c in cats if c.code == name), None) or next((c for c in cats if c.name == name), None)
        if match is None:
            raise PolicyMissing(ERR_UNKNOWN_CATEGORY.format(year=policy.year, name=name))
        if match not in found:
            found.append(match)
    return found


def offers_for(*, policy: PolicyYear, tier: int, person: Person | None = None, categories=None):
    """The subsidy offers a person (or an explicit list of categories) has for a tier."""
    amounts = {cs.category_id: cs.amount for cs in CategorySubsidy.objects.filter(category__policy=policy, tier=tier)}
    offers = []
    universal = SubsidyCategory.objects.filter(policy=policy, applies_to_all=True)
    chosen = list(categories or [])
    if person is not None:
        idents = PersonIdentity.objects.filter(person=person, year=policy.year, category__policy=policy).select_related("category")
        for ident in idents:
            if ident.category_id in amounts:
                offers.append(_offer(ident.category, amounts[ident.category_id], ident.certified_on))
    for cat in list(universal) + [c for c in chosen if not c.applies_to_all]:
        if cat.id in amounts:
            offers.append(_offer(cat, amounts[cat.id], None))
    return offers


def _offer(cat, amount, certified_on: date | None) -> calc.CategoryOffer:
    return calc.CategoryOffer(
        code=cat.code,
        name=cat.name,
        amount=amount,
        certified_on=certified_on,
        applies_to_all=cat.applies_to_all,
        is_low_income=cat.is_low_income,
    )


def owed_for(*, policy: PolicyYear, tier: int, offers, student: bool = False, paid_on: date | None = None) -> calc.Owed:
    standard = tier_standard(policy, tier, student=student)
    return calc.owed(
        standard,
        offers,
        window_end=policy.window_end,
        paid_on=paid_on,
        midyear_from=policy.midyear_from,
        midyear_pays_fiscal_subsidy=policy.midyear_pays_fiscal_subsidy,
        fiscal_subsidy=policy.fiscal_subsidy,
    )


def owed_by(*, person: Person, year: int, tier: int = 1, paid_on: date | None = None) -> calc.Owed:
    """What ``person`` owes for ``year`` at ``tier`` under their county's policy.

    ``paid_on`` (optional) applies the mid-year rule where the county has one."""
    county = person.household.village.county
    policy = policy_for(county=county, year=year)
    offers = offers_for(policy=policy, tier=tier, person=person)
    return owed_for(policy=policy, tier=tier, offers=offers, student=person.is_student, paid_on=paid_on)


@dataclass(frozen=True)
class Quote:
    policy: PolicyYear
    tier: int
    owed: calc.Owed
    cover: benefit.Cover | None


def quote(
    *,
    county_code: str,
    year: int,
    tier: int = 1,
    categories=(),
    student: bool = False,
    paid_on: date | None = None,
    birth_date: date | None = None,
    registered_on: date | None = None,
    break_years: int = 0,
    backpaid_years: int = 0,
    parent_insured: bool = False,
) -> Quote:
    """The anonymous "what do I owe / when does cover start" answer. No personal data is read."""
    policy = policy_by_code(county_code=county_code, year=year)
    cats = categories_named(policy, categories)
    offers = offers_for(policy=policy, tier=tier, categories=cats)
    owed = owed_for(policy=policy, tier=tier, offers=offers, student=student, paid_on=paid_on)
    cover = None
    if paid_on or birth_date or registered_on:
        who = benefit.Applicant(
            paid_on=paid_on,
            birth_date=birth_date,
            registered_on=registered_on,
            break_years=break_years,
            backpaid_years=backpaid_years,
            parent_insured=parent_insured,
            low_income=any(c.is_low_income for c in cats),
        )
        cover = benefit.benefit_start(benefit.CoverRules.from_policy(policy), who)
    return Quote(policy=policy, tier=tier, owed=owed, cover=cover)


def public_policies():
    """Policy years with their tiers and categories (names only): public, no personal data."""
    return (
        PolicyYear.objects.select_related("county")
        .prefetch_related("tiers", "categories")
        .order_by("county__sort_order", "county__code", "-year")
    )


def policies_visible_to(user):
    return PolicyYear.objects.visible_to(user).select_related("county").prefetch_related("tiers").order_by("county__code", "-year")


def categories_visible_to(user):
    """Categories of the policies the user sees; a department user only its own department's."""
    qs = SubsidyCategory.objects.filter(policy__in=PolicyYear.objects.visible_to(user)).select_related("policy__county")
    if getattr(user, "role", None) == "department" and not user.is_superuser:
        qs = qs.filter(department=user.department)
    return qs


def identities_visible_to(user):
    """Identities in the user's region; a department user only those of its own categories."""
    qs = PersonIdentity.objects.visible_to(user).select_related("person", "category__policy__county")
    if getattr(user, "role", None) == "department" and not user.is_superuser:
        qs = qs.filter(category__department=user.department)
    return qs.order_by("-year", "category__sort_order", "person__name", "pk")
