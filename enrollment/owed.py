"""What a resident on the roster owes and when their cover starts.

The roster's side of the policy kernel: it loads a person's subsidy identities (one query for
any number of persons) and their record of earlier years, and asks ``subsidies.book.OwedBook``
and ``subsidies.benefit`` — the one place the amounts and cover rules are computed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import F, Max, Q

from subsidies import benefit, calc
from subsidies.book import OwedBook
from subsidies.models import PolicyYear
from subsidies.selectors import ERR_NO_POLICY, PolicyMissing

from .choices import PAID_STATUSES
from .models import Enrollment, Person, PersonIdentity

__all__ = ["PolicyMissing", "identities_of", "identities_for", "owed_by", "owed_by_persons", "cover_by", "covers_by"]


def _late_last_year(policy: PolicyYear) -> Q:
    return Q(
        year=policy.year - 1,
        category__policy__county_id=policy.county_id,
        category__policy__year=policy.year - 1,
        certified_on__gt=F("category__policy__window_end"),
    )


def identities_of(*, persons, policy: PolicyYear):
    """The identities that can subsidise ``persons`` in ``policy``'s year: those of that year, and
    those of the year before certified after that year's collection window (身份认定晚于集中征缴期，
    下一年度起享受) — stored with the earlier year, they count from this one. One query;
    ``persons`` may be persons, ids or a subquery."""
    this_year = Q(year=policy.year, category__policy=policy)
    return (
        PersonIdentity.objects.filter(this_year | _late_last_year(policy), person__in=persons)
        .select_related("category")
        .order_by("-year", "category__sort_order", "category__code")
    )


def identities_for(*, person: Person, policy: PolicyYear):
    return identities_of(persons=[person], policy=policy)


def owed_by_persons(
    *, persons, year: int, tiers: dict | None = None, paid_on: date | None = None, book: OwedBook | None = None
) -> dict[int, calc.Owed]:
    """What each of ``persons`` (of one county) owes for ``year``: person id → Owed. ``tiers`` maps
    person id → tier (default 1). The policy and everyone's identities are read once, whatever
    the number of persons; pass a ``book`` to share its policy and answers across calls.
    Raises PolicyMissing when the county has no policy for the year (or lacks a tier)."""
    persons = list(persons)
    if not persons:
        return {}
    tiers = tiers or {}
    book = book or OwedBook(persons[0].household.village.county)
    policy = book.policy(year)
    if policy is None:
        raise PolicyMissing(ERR_NO_POLICY.format(county=book.county.name, year=year))
    held = defaultdict(list)
    for ident in identities_of(persons=persons, policy=policy):
        held[ident.person_id].append(ident)
    return {
        p.pk: book.owed(year, int(tiers.get(p.pk) or 1), p.is_student, p.birth_date, paid_on, held[p.pk])
        for p in persons
    }


def owed_by(*, person: Person, year: int, tier: int = 1, paid_on: date | None = None) -> calc.Owed:
    """What ``person`` owes for ``year`` at ``tier`` under their county's policy."""
    return owed_by_persons(persons=[person], year=year, tiers={person.pk: tier}, paid_on=paid_on)[person.pk]


def _last_paid_years(persons, year: int) -> dict[int, int]:
    """Person id → the last benefit year before ``year`` they paid for (absent: none on record)."""
    return dict(
        Enrollment.objects.filter(person__in=persons, year__lt=year, status__in=PAID_STATUSES)
        .values("person_id")
        .annotate(last=Max("year"))
        .values_list("person_id", "last")
    )


def _break_years(last: int | None, year: int) -> int:
    """Benefit years missed right before ``year`` (0 with no earlier enrollment on record: the
    window rules alone apply)."""
    return 0 if last is None else max(0, year - 1 - last)


def break_years_before(*, person: Person, year: int) -> int:
    return _break_years(_last_paid_years([person], year).get(person.pk), year)


def covers_by(*, persons, year: int, paid_on: date, book: OwedBook | None = None) -> dict[int, benefit.Cover | None]:
    """When each real resident's cover for ``year`` starts if they pay on ``paid_on``: from the
    policy, their birth date (newborns), their record of earlier years (breaks) and whether
    they hold a low-income identity. None for a person when the county has no policy for the
    year, or the date is one the rules refuse (the payment itself is the collector's and tax
    office's call). Two queries whatever the number of persons (of one county), three with newborns following a guardian."""
    persons = list(persons)
    if not persons:
        return {}
    book = book or OwedBook(persons[0].household.village.county)
    policy, rules = book.policy(year), book.cover_rules(year)
    if policy is None or rules is None:
        return dict.fromkeys((p.pk for p in persons), None)
    low_income = {i.person_id for i in identities_of(persons=persons, policy=policy) if i.category.is_low_income}
    last = _last_paid_years(persons, year)
    guardians = {p.guardian_id for p in persons if p.guardian_id and p.birth_date.year == year}
    paid_guardians = set(Enrollment.objects.filter(person_id__in=guardians, year=year, status__in=PAID_STATUSES)
                         .values_list("person_id", flat=True)) if guardians else set()
    out: dict[int, benefit.Cover | None] = {}
    for p in persons:
        who = benefit.Applicant(
            paid_on=paid_on,
            birth_date=p.birth_date,
            break_years=_break_years(last.get(p.pk), year),
            low_income=p.pk in low_income,
            cover_group=p.cover_group,
            cover_group_since=p.cover_group_since,
            parent_insured=p.guardian_id in paid_guardians,
        )
        try:
            out[p.pk] = benefit.benefit_start(rules, who)
        except benefit.PaymentNotAccepted:
            out[p.pk] = None
    return out


def cover_by(*, person: Person, year: int, paid_on: date) -> benefit.Cover | None:
    return covers_by(persons=[person], year=year, paid_on=paid_on)[person.pk]
