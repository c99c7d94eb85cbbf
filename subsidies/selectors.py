"""Read the policy data and apply the pure rules in calc.py."""

from __future__ import annotations

from datetime import date

from enrollment.models import Person

from . import calc
from .models import CategorySubsidy, PersonIdentity, PolicyYear, SubsidyCategory, Tier

ERR_NO_POLICY = "{county}尚未设置{year}年度征缴政策。"
ERR_NO_TIER = "{year}年度没有第{tier}档。"


class PolicyMissing(LookupError):
    pass


def policy_for(*, county, year: int) -> PolicyYear:
    try:
        return PolicyYear.objects.select_related("county").get(county=county, year=year)
    except PolicyYear.DoesNotExist:
        raise PolicyMissing(ERR_NO_POLICY.format(county=county.name, year=year)) from None


def tier_standard(policy: PolicyYear, tier: int, *, student: bool = False):
    try:
        t = policy.tiers.get(number=tier)
    except Tier.DoesNotExist:
        raise PolicyMissing(ERR_NO_TIER.format(year=policy.year, tier=tier)) from None
    return t.student_standard if student and t.student_standard is not None else t.standard


def offers_for(*, policy: PolicyYear, tier: int, person: Person | None = None, categories=None):
    """The subsidy offers a person (or an explicit list of categories) has for a tier."""
    amounts = {
        cs.category_id: cs.amount
        for cs in CategorySubsidy.objects.filter(category__policy=policy, tier=tier)
    }
    offers = []
    universal = SubsidyCategory.objects.filter(policy=policy, applies_to_all=True)
    chosen = list(categories or [])
    if person is not None:
        for ident in PersonIdentity.objects.filter(person=person, year=policy.year, category__policy=policy).select_related("category"):
            if ident.category_id in amounts:
                offers.append(_offer(ident.category, amounts[ident.category_id], ident.certified_on))
    for cat in list(universal) + chosen:
        if cat.id in amounts:
            offers.append(_offer(cat, amounts[cat.id], None))
    return offers


def _offer(cat, amount, certified_on: date | None) -> calc.CategoryOffer:
    return calc.CategoryOffer(
        code=cat.code, name=cat.name, amount=amount, certified_on=certified_on, applies_to_all=cat.applies_to_all
    )


def owed_by(*, person: Person, year: int, tier: int = 1) -> calc.Owed:
    """What ``person`` owes for ``year`` at ``tier`` under their county's policy."""
    county = person.household.village.county
    policy = policy_for(county=county, year=year)
    standard = tier_standard(policy, tier, student=person.is_student)
    return calc.owed(standard, offers_for(policy=policy, tier=tier, person=person), window_end=policy.window_end)
