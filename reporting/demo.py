"""A believable running season for `make run`: never used outside a demo.

The seed policies are for benefit year 2025 (collected in autumn 2024). A newcomer running the
demo today expects to see the season being collected *now*, so the demo:

1. opens the county's policy for the benefit year being collected today, as a copy of its seed
   policy with every date moved by whole years (the seed policy itself stays as transcribed);
2. fills the county with synthetic residents whose payments run up to today;
3. lets each demo collector of the county take cash through the real receipt service, spread over
   the last days and not yet remitted, so cash on hand and a double-limit breach show;
4. rebuilds the season's daily snapshots, daily reports and weekly rankings up to today.

Lives in reporting because it uses every other app (reporting is the only app allowed to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from collections_app.cash.services import double_limit_record, receipt_issue
from collections_app.models import DoubleLimitBreach, Receipt
from core.choices import Role
from core.models import Region, User
from enrollment import demo, demo_data
from enrollment.choices import EnrollmentStatus, PaymentChannel
from enrollment.models import Enrollment, Household
from subsidies.models import PolicyYear
from subsidies.services import policy_copy

# Days ago each demo receipt was taken: the oldest are past the 5-day limit (a breach to see).
RECEIPT_AGES = (8, 7, 6, 4, 3, 2, 1, 0)


def collecting_year(today: date) -> int:
    """The benefit year being collected on ``today``: autumn collects next year's cover; the
    first half of a year is the tail (extension) of that year's own collection."""
    return today.year + 1 if today.month >= 7 else today.year


@dataclass
class SeasonResult:
    county: str
    year: int
    opened_policy: bool
    residents: int
    receipts: int
    breaches: int


@transaction.atomic
def open_policy(county: Region, year: int) -> tuple[PolicyYear, bool]:
    """The county's policy for ``year``; copied from its latest earlier policy if missing."""
    policy = PolicyYear.objects.filter(county=county, year=year).first()
    if policy is not None:
        return policy, False
    seed = PolicyYear.objects.filter(county=county, year__lt=year).order_by("-year").first()
    if seed is None:
        raise LookupError(f"{county.name}没有可复制的征缴政策（先运行 load_localities）。")
    bureau = User(username="demo", role=Role.BUREAU, region=county)  # an unsaved actor with the bureau's rights
    return policy_copy(actor=bureau, policy=seed, year=year), True


def take_demo_cash(county: Region, year: int, *, today: date | None = None) -> int:
    """Each demo collector of ``county`` takes cash from a few pending households, one receipt per
    household, through the real service; receipts are then dated over the last days (demo only)."""
    today = today or timezone.localdate()
    usernames = [name for name, role, *_ in demo.DEMO_ACCOUNTS if role == Role.COLLECTOR]
    collectors = User.objects.filter(username__in=usernames, region__parent__parent=county)
    issued = 0
    for collector in collectors:
        pending = (
            Enrollment.objects.filter(
                village=collector.region, year=year, status=EnrollmentStatus.PENDING, person__is_deceased=False
            )
            .values_list("person__household_id", flat=True)
            .distinct()
            .order_by("person__household_id")
        )
        taken = 0
        for household_id in list(pending[: len(RECEIPT_AGES) * 4]):
            if taken == len(RECEIPT_AGES):
                break
            household = Household.objects.get(pk=household_id)
            persons = list(
                Enrollment.objects.filter(
                    person__household=household, year=year, status=EnrollmentStatus.PENDING, person__is_deceased=False
                ).values_list("person_id", flat=True)
            )
            try:
                receipt = receipt_issue(
                    actor=collector, household=household, persons=persons, channel=PaymentChannel.CASH, year=year
                )
            except ValidationError:  # e.g. a fully subsidised household owes nothing: take the next one
                continue
            age = RECEIPT_AGES[taken]
            Receipt.objects.filter(pk=receipt.pk).update(
                issued_on=today - timedelta(days=age), issued_at=timezone.now() - timedelta(days=age)
            )
            Enrollment.objects.filter(receipt_lines__receipt=receipt).update(paid_on=today - timedelta(days=age))
            taken += 1
        issued += taken
    return issued


def seed_season(*, county_code: str, residents: int, if_empty: bool = False, stdout=None) -> SeasonResult | None:
    county = demo_data.get_county(county_code)
    if if_empty and demo_data.county_has_persons(county):
        return None
    today = timezone.localdate()
    year = collecting_year(today)
    _, opened = open_policy(county, year)
    seeded = demo_data.seed_county(county=county, residents=residents, year=year)
    demo.ensure_demo_accounts()
    receipts = take_demo_cash(county, year, today=today)
    double_limit_record()
    breaches = DoubleLimitBreach.objects.filter(collector__region__parent__parent=county, resolved_at__isnull=True).count()
    call_command("backfill_snapshots", county=county.code, year=year, stdout=stdout)
    return SeasonResult(
        county=county.name, year=year, opened_policy=opened, residents=seeded.persons, receipts=receipts, breaches=breaches
    )
