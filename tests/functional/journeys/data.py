"""The little world each journey starts from: the seed localities and policies, a policy year
whose collection window is open today, and people with plain Chinese names.

Built with the project's own loaders, services and factories, so the journeys exercise the same
rules the pages apply (Shizhu's 15 subsidy categories, Jiangnan's village quotas …).
"""

import io
from datetime import date, timedelta

from django.core.management import call_command
from django.utils import timezone

from core import idcard
from core.choices import Role
from core.models import Region
from enrollment.choices import EnrollmentStatus, Relation
from enrollment.models import Enrollment, Household, Person
from tests.factories import UserFactory


def load_seeds():
    """The five seed localities (regions, quotas) and their policy years."""
    call_command("load_localities", stdout=io.StringIO())


def open_policy_year(county_code: str, *, today: date | None = None) -> int:
    """Copy the county's seed policy (2025) to the benefit year being collected now and open its
    collection window around today, so every page works on that year whatever day CI runs."""
    from subsidies.models import PolicyYear
    from subsidies.services import policy_copy

    today = today or timezone.localdate()
    county = Region.objects.get(code=county_code)
    seed = PolicyYear.objects.filter(county=county).order_by("-year").first()
    year = today.year + 1
    bureau = _bureau_for(county)
    policy = PolicyYear.objects.filter(county=county, year=year).first() or policy_copy(actor=bureau, policy=seed, year=year)
    policy.window_start = today - timedelta(days=60)
    policy.window_end = today + timedelta(days=30)
    policy.extension_end = today + timedelta(days=90) if policy.extension_end else None
    if policy.midyear_from and policy.midyear_from <= policy.window_end:
        policy.midyear_from = date(year, 7, 1)
    for name in ("weekly_reports_from", "daily_reports_from"):
        if getattr(policy, name):
            setattr(policy, name, today - timedelta(days=50))
    policy.save()
    for t in policy.phase_targets.all():
        t.due = policy.window_end
        t.save()
    return year


def _bureau_for(county):
    from core.models import User

    return User.objects.filter(role=Role.BUREAU, region=county).first() or UserFactory(
        username=f"bureau_{county.code}", first_name="县医保局", role=Role.BUREAU, region=county
    )


def user(username: str, role: str, region_code: str, name: str, **extra):
    return UserFactory(
        username=username, first_name=name, role=role, region=Region.objects.get(code=region_code), **extra
    )


_seq = iter(range(100, 999))


def person(household, name, born, relation=Relation.CHILD, *, area="500240", year=None, status=EnrollmentStatus.PENDING, sex=None):
    seq = next(_seq)
    if sex is not None:  # 17th digit: odd = male, even = female
        seq = seq | 1 if sex == "M" else seq & ~1
    number = idcard.make(area, born, seq)
    info = idcard.parse(number)
    p = Person.objects.create(
        household=household, name=name, id_number=number, relation=relation, sex=info.sex, birth_date=info.birth_date
    )
    if year is not None:
        Enrollment.objects.create(person=p, year=year, village=household.village, tier=1, status=status)
    return p


def household(village_code, number, address):
    return Household.objects.create(village=Region.objects.get(code=village_code), number=number, address=address)


def identity(p, policy_year: int, code: str):
    """Certify ``p`` in the county's subsidy category ``code`` for the year (as a department list would)."""
    from enrollment.models import PersonIdentity
    from subsidies.models import SubsidyCategory

    cat = SubsidyCategory.objects.get(policy__county=p.household.village.county, policy__year=policy_year, code=code)
    return PersonIdentity.objects.create(
        person=p, category=cat, year=policy_year, certified_on=timezone.localdate() - timedelta(days=20), source_list="民政局低保名单"
    )
