"""What residents of one county owe: one book for a single resident and for a county's thousands.

A book reads a county's policy of a year once (its tiers prefetched), builds each tier's offers
once (``selectors.TierOffers``) and remembers answers by everything they depend on, so a
household page, a receipt, a declaration of a township and a tax filing of 600,000 rows all ask
the same question the same way: ``selectors.owed_for`` over the policy, the tier, the person's
identities (plain values: category, year, certified on — the roster loads them) and the newborn
and mid-year rules of ``benefit``. The book reads no roster table: enrollment passes identities in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import benefit, calc, selectors
from .models import PolicyYear, SubsidyCategory


@dataclass(frozen=True, slots=True)
class HeldIdentity:
    """A subsidy identity as the book reads it (what ``TierOffers.offers`` uses), for callers that
    load identities as rows rather than PersonIdentity instances."""

    person_id: int
    category: SubsidyCategory
    year: int
    certified_on: date | None

    @property
    def category_id(self) -> int:
        return self.category.id


@dataclass(frozen=True, slots=True)
class _Year:
    policy: PolicyYear
    rules: benefit.CoverRules
    tiers: frozenset


class OwedBook:
    """``owed(year, tier, …)`` for residents of ``county``; raises ``selectors.PolicyMissing``
    (with its message) when the county has no policy for the year or the policy lacks the tier."""

    MEMO_SIZE = 200_000  # answers kept; a county's distinct (tier, identities, date) cases are far fewer

    def __init__(self, county) -> None:
        self.county = county
        self._years: dict[int, _Year | None] = {}
        self._tier_offers: dict[tuple[int, int], selectors.TierOffers] = {}
        self._memo: dict[tuple, calc.Owed] = {}

    def policy(self, year: int) -> PolicyYear | None:
        data = self._year(year)
        return None if data is None else data.policy

    def cover_rules(self, year: int) -> benefit.CoverRules | None:
        data = self._year(year)
        return None if data is None else data.rules

    def has_tier(self, year: int, tier: int) -> bool:
        data = self._year(year)
        return data is not None and tier in data.tiers

    def _year(self, year: int) -> _Year | None:
        if year not in self._years:
            policy = PolicyYear.objects.filter(county=self.county, year=year).select_related("county").prefetch_related("tiers").first()
            self._years[year] = None if policy is None else _Year(
                policy, benefit.CoverRules.from_policy(policy), frozenset(t.number for t in policy.tiers.all())
            )
        return self._years[year]

    def owed(
        self, year: int, tier: int = 1, student: bool = False, birth_date: date | None = None,
        paid_on: date | None = None, identities=(),
    ) -> calc.Owed:
        """What a resident owes for ``year`` at ``tier``. ``identities`` are those that may subsidise
        them this year (enrollment's ``identities_of``); ``paid_on`` applies the mid-year rule,
        except to a newborn paying within the newborn window. Called for each row of a filing:
        the arguments may be given by position."""
        data = self._years.get(year) or self._year(year)
        if data is None:
            raise selectors.PolicyMissing(selectors.ERR_NO_POLICY.format(county=self.county.name, year=year))
        if tier not in data.tiers:
            raise selectors.PolicyMissing(selectors.ERR_NO_TIER.format(year=year, tier=tier))
        newborn = benefit.pays_as_newborn(birth_date, paid_on, data.rules)
        held = tuple((i.category_id, i.year, i.certified_on) for i in identities) if identities else None
        key = (year, tier, student, held, paid_on, newborn)
        result = self._memo.get(key)
        if result is None:
            offers_key = (year, tier)
            if offers_key not in self._tier_offers:
                self._tier_offers[offers_key] = selectors.TierOffers.load(data.policy, tier)
            offers = self._tier_offers[offers_key].offers(policy=data.policy, identities=identities or ())
            result = selectors.owed_for(
                policy=data.policy, tier=tier, offers=offers, student=student, paid_on=paid_on, newborn=newborn
            )
            if len(self._memo) < self.MEMO_SIZE:
                self._memo[key] = result
        return result
