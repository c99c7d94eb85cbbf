"""Factories and helpers for the cash trail: a county policy, households with members, receipts."""

import itertools
from datetime import date
from decimal import Decimal

from django.utils import timezone

from core.choices import Department
from core.models import Region
from enrollment.choices import EnrollmentStatus, PaymentChannel
from enrollment.models import Enrollment, PersonIdentity
from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory, Tier
from tests.factories import HouseholdFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory

_township_codes = itertools.count(700)


def benefit_year() -> int:
    """A benefit year whose cover has not started yet (so refunds are still possible)."""
    return timezone.localdate().year + 1


def make_policy(
    county, *, year=None, standard="400.00", remit_days=5, remit_amount="10000.00", posting_working_days=5, tier2=None,
    publicity_payers="cash",
):
    year = year or benefit_year()
    policy, _ = PolicyYear.objects.get_or_create(
        county=county,
        year=year,
        defaults={
            "window_start": date(year - 1, 9, 1),
            "window_end": date(year - 1, 12, 31),
            "remit_days": remit_days,
            "remit_amount": None if remit_amount is None else Decimal(remit_amount),
            "posting_working_days": posting_working_days,
            # The cash trail's tests post the receipts they issue; Neixiang's kind ("all") is
            # asked for where a test is about it.
            "publicity_payers": publicity_payers,
        },
    )
    Tier.objects.get_or_create(policy=policy, number=1, defaults={"name": "一档", "standard": Decimal(standard)})
    if tier2:
        Tier.objects.get_or_create(policy=policy, number=2, defaults={"name": "二档", "standard": Decimal(tier2)})
    return policy


def make_category(policy, *, code="dibao", name="低保对象", amounts=None):
    cat, _ = SubsidyCategory.objects.get_or_create(
        policy=policy, code=code, defaults={"name": name, "department": Department.CIVIL_AFFAIRS}
    )
    for tier, amount in (amounts or {1: "400.00"}).items():
        CategorySubsidy.objects.get_or_create(category=cat, tier=tier, defaults={"amount": Decimal(amount)})
    return cat


def certify(person, category, *, on=None):
    return PersonIdentity.objects.create(
        person=person, category=category, year=category.policy.year, certified_on=on or category.policy.window_start
    )


def household_with(village, n=3):
    hh = HouseholdFactory(village=village)
    members = [PersonFactory(household=hh) for _ in range(n)]
    return hh, members


def pay(actor, household, persons, *, channel=PaymentChannel.CASH, year=None, tiers=None):
    from collections_app.cash.services import receipt_issue

    return receipt_issue(
        actor=actor, household=household, persons=persons, channel=channel, year=year or benefit_year(), tiers=tiers
    )


def confirmed() -> dict:
    """What the cash desk's confirmation page adds to the form it posts (a fresh request key)."""
    import uuid

    return {"confirm": "1", "request_key": uuid.uuid4().hex}


def declare_on_page(client, region, year):
    """Generate a declaration through its page: the preview, then the confirmation it carries.
    Returns the confirmation's response."""
    from django.urls import reverse

    url = reverse("collections:declaration_list")
    preview = client.post(url, {"region": region.pk, "year": year})
    assert preview.status_code == 200 and "preview" in preview.context, preview.content.decode()[:500]
    return client.post(url, {"region": region.pk, "year": year, "confirm": "1", "expect": preview.context["preview"].fingerprint})


def paid_in(county_code, year, *, standard="400.00", subsidy="0.00", benefit_start=None, category_code=""):
    """A resident of a new village of a seed county (``load_seed_policies``) who paid for ``year``
    (standard − subsidy), and that village's collector: (enrollment, collector)."""
    county = Region.objects.get(code=county_code)
    town = TownshipFactory(parent=county, code=f"{county_code}{next(_township_codes)}")
    village = VillageFactory(parent=town, code=f"{town.code}001")
    person = PersonFactory(household=HouseholdFactory(village=village))
    standard, subsidy = Decimal(standard), Decimal(subsidy)
    enrollment = Enrollment.objects.create(
        person=person, year=year, village=village, status=EnrollmentStatus.CONFIRMED, standard=standard,
        subsidy=subsidy, amount_due=standard - subsidy, subsidy_category_code=category_code, benefit_start=benefit_start,
    )
    return enrollment, UserFactory(role="collector", region=village)
