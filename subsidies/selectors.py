"""Read the policy data and apply the pure rules in calc.py and benefit.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from core.models import Region

from . import benefit, calc, seasons
from .models import CategorySubsidy, PolicyYear, SubsidyCategory
from .postings import PostingRules

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


def seasons_of(county) -> list[PolicyYear]:
    return list(PolicyYear.objects.filter(county=county).select_related("county"))


def season_of(county, day: date | None = None) -> PolicyYear | None:
    """The policy year being worked on in ``county`` on ``day`` (today by default); the rule is
    `seasons.season_on`. None when the county has no policy year."""
    if county is None:
        return None
    return seasons.season_on(day or timezone.localdate(), seasons_of(county))


def benefit_year(county, day: date | None = None) -> int:
    """The benefit year every page, report, task and import works on by default."""
    day = day or timezone.localdate()
    return seasons.benefit_year(day, seasons_of(county) if county is not None else [])


def _policies_by_county() -> list[list[PolicyYear]]:
    by_county = defaultdict(list)
    for policy in PolicyYear.objects.select_related("county"):
        by_county[policy.county_id].append(policy)
    return list(by_county.values())


def seasons_on(day: date) -> list[PolicyYear]:
    """Every county's season on ``day`` (one query; counties without a policy year are absent)."""
    return [s for s in (seasons.season_on(day, ps) for ps in _policies_by_county()) if s is not None]


def seasons_last_ended(day: date) -> list[PolicyYear]:
    """Every county's season that ended last before ``day`` (whose final assessment is due)."""
    return [s for s in (seasons.last_ended(day, ps) for ps in _policies_by_county()) if s is not None]


def posting_rules(county, year: int) -> PostingRules | None:
    """The publicity settings of the county's policy year (None: no policy year)."""
    if county is None:
        return None
    policy = PolicyYear.objects.filter(county=county, year=year).first()
    return PostingRules.from_policy(policy) if policy is not None else None


def posting_rules_by_county(county_ids, year: int) -> dict[int, PostingRules]:
    """County id → publicity settings of its policy year, for the counties that have one (one query)."""
    return {p.county_id: PostingRules.from_policy(p) for p in PolicyYear.objects.filter(county_id__in=list(county_ids), year=year)}


def tier_standard(policy: PolicyYear, tier: int, *, student: bool = False):
    t = next((t for t in policy.tiers.all() if t.number == tier), None)  # uses a prefetch when there is one
    if t is None:
        raise PolicyMissing(ERR_NO_TIER.format(year=policy.year, tier=tier))
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


@dataclass(frozen=True)
class TierOffers:
    """What a policy's categories pay for one tier, read once."""

    amounts: dict  # category id -> amount
    by_code: dict  # category code -> category
    universal: list

    @classmethod
    def load(cls, policy: PolicyYear, tier: int) -> "TierOffers":
        subsidies = list(CategorySubsidy.objects.filter(category__policy=policy, tier=tier).select_related("category"))
        return cls(
            amounts={cs.category_id: cs.amount for cs in subsidies},
            by_code={cs.category.code: cs.category for cs in subsidies},
            universal=[cs.category for cs in subsidies if cs.category.applies_to_all],
        )

    def offers(self, *, policy: PolicyYear, identities=(), categories=()) -> list[calc.CategoryOffer]:
        offers, seen = [], set()
        for ident in identities:
            cat = ident.category if ident.year == policy.year else self.by_code.get(ident.category.code)
            if cat is None or cat.id not in self.amounts or cat.id in seen:
                continue
            seen.add(cat.id)
            offers.append(_offer(cat, self.amounts[cat.id], ident.certified_on))
        for cat in self.universal + [c for c in categories if not c.applies_to_all]:
            if cat.id in self.amounts:
                offers.append(_offer(cat, self.amounts[cat.id], None))
        return offers


def offers_for(*, policy: PolicyYear, tier: int, categories=()):
    """The subsidy offers an explicit list of categories has for a tier (the anonymous quote;
    a resident's own identities go through ``book.OwedBook``)."""
    return TierOffers.load(policy, tier).offers(policy=policy, categories=list(categories))


def _offer(cat, amount, certified_on: date | None) -> calc.CategoryOffer:
    return calc.CategoryOffer(
        code=cat.code,
        name=cat.name,
        amount=amount,
        certified_on=certified_on,
        applies_to_all=cat.applies_to_all,
        is_low_income=cat.is_low_income,
    )


def owed_for(
    *, policy: PolicyYear, tier: int, offers, student: bool = False, paid_on: date | None = None, newborn: bool = False
) -> calc.Owed:
    standard = tier_standard(policy, tier, student=student)
    return calc.owed(
        standard,
        offers,
        window_end=policy.window_end,
        paid_on=paid_on,
        midyear_from=policy.midyear_from,
        midyear_pays_fiscal_subsidy=policy.midyear_pays_fiscal_subsidy,
        fiscal_subsidy=policy.fiscal_subsidy,
        newborn=newborn,
    )


def pays_as_newborn(*, policy: PolicyYear, birth_date: date | None, paid_on: date | None) -> bool:
    """Born in the benefit year (or the year before) and paying within the policy's newborn window."""
    return benefit.pays_as_newborn(birth_date, paid_on, benefit.CoverRules.from_policy(policy))


@dataclass(frozen=True)
class Quote:
    policy: PolicyYear
    tier: int
    owed: calc.Owed
    cover: benefit.Cover | None
    # A newborn of Y−1 enrolling in Y who may or must pay its birth year too: that year's amount
    # (None: no such case, or no policy on record for the birth year — said in ``birth_year_note``).
    birth_year_owed: calc.Owed | None = None
    birth_year_note: str = ""
    incentive: Decimal | None = None  # next year's critical-illness cap raise, when the history was given

    @property
    def notes(self) -> tuple:
        """What to tell the resident: the notes on the amount, then those on the cover."""
        extra = (self.birth_year_note,) if self.birth_year_note else ()
        return tuple(self.owed.notes) + (tuple(self.cover.notes) if self.cover else ()) + extra


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
    cover_group: str = "",
    cover_group_since: date | None = None,
    continuous_years: int | None = None,
    zero_claim_last_year: bool = False,
) -> Quote:
    """The anonymous "what do I owe / when does cover start" answer. No personal data is read.
    ``continuous_years`` (the years enrolled without a break before this one) and
    ``zero_claim_last_year`` give the critical-illness incentive of paying this year."""
    policy = policy_by_code(county_code=county_code, year=year)
    cats = categories_named(policy, categories)
    offers = offers_for(policy=policy, tier=tier, categories=cats)
    newborn = pays_as_newborn(policy=policy, birth_date=birth_date, paid_on=paid_on)
    owed = owed_for(policy=policy, tier=tier, offers=offers, student=student, paid_on=paid_on, newborn=newborn)
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
            cover_group=cover_group,
            cover_group_since=cover_group_since,
        )
        cover = benefit.benefit_start(benefit.CoverRules.from_policy(policy), who, today=timezone.localdate())
    birth_owed, birth_note = _birth_year_owed(policy, cover, tier=tier, categories=categories, student=student)
    incentive = None
    if continuous_years is not None:
        history = [benefit.YearRecord(enrolled=True, zero_claim=zero_claim_last_year and i == continuous_years - 1)
                   for i in range(continuous_years)]
        incentive = incentive_for(policy, [*history, benefit.YearRecord(enrolled=True)])
    return Quote(policy=policy, tier=tier, owed=owed, cover=cover, birth_year_owed=birth_owed, birth_year_note=birth_note,
                 incentive=incentive)


ERR_NO_BIRTH_YEAR_POLICY = "未录入{county}{year}年度政策，出生当年应缴金额请按该年度标准另行核算。"


def _birth_year_owed(policy: PolicyYear, cover: benefit.Cover | None, *, tier: int, categories, student: bool):
    """What a newborn's birth year costs when it may or must be paid with this year (the
    birth year's own policy: its standard and subsidies)."""
    if cover is None or not cover.birth_year:
        return None, ""
    year = policy.year - 1
    try:
        earlier = policy_by_code(county_code=policy.county.code, year=year)
    except PolicyMissing:
        return None, ERR_NO_BIRTH_YEAR_POLICY.format(county=policy.county.name, year=year)
    try:  # the birth year's categories and tiers are its own: one missing there is said, not guessed
        offers = offers_for(policy=earlier, tier=tier, categories=categories_named(earlier, categories))
        return owed_for(policy=earlier, tier=tier, offers=offers, student=student, newborn=True), ""
    except PolicyMissing as exc:
        return None, str(exc)


def incentive_for(policy: PolicyYear, history) -> Decimal:
    """The critical-illness cap raise for a year whose enrolment history (oldest first, this
    year last) is ``history``, by the policy's incentive figures."""
    return benefit.incentive_raise(
        history, after_years=policy.incentive_after_years, step=policy.incentive_step,
        cap_rate=policy.incentive_cap_rate, base_cap=policy.critical_illness_base_cap,
    )


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
    qs = SubsidyCategory.objects.visible_to(user).select_related("policy__county")
    if getattr(user, "role", None) == "department" and not user.is_superuser:
        qs = qs.filter(department=user.department)
    return qs
