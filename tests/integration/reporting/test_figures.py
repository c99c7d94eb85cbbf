"""One definition per figure: the gaps the roster filters, the gap list and the dashboards count;
the special-group members the 缺 N 人 figure and the 重点人群未入库 list count; and which source
(live or snapshot) a dashboard reads."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from enrollment.choices import EnrollmentStatus as S
from enrollment.choices import ExclusionReason
from enrollment.filtersets import GAP, PersonFilterSet
from enrollment.models import PersonIdentity
from enrollment.selectors import persons_with_status
from reporting import figures, selectors, services
from subsidies.models import SubsidyCategory
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory
from tests.factories.reporting import ReportingPolicyFactory

DAY = date(2024, 10, 6)
YEAR = 2025


@pytest.fixture
def village(regions):
    """甲一村: a paid household, a household with one member pending, a person with no record,
    one excluded with a reason, a deceased one — and special-group members."""
    policy = ReportingPolicyFactory(county=regions["county"])
    v1 = regions["v1"]
    confirmed = {"status": S.CONFIRMED, "paid_on": DAY, "declared_on": DAY, "confirmed_on": DAY, "amount_due": Decimal("400.00")}
    paid = HouseholdFactory(village=v1, number="0001")
    EnrollmentFactory.create_batch(3, person__household=paid, year=YEAR, status=S.PAID, paid_on=DAY)
    split = HouseholdFactory(village=v1, number="0002")
    head = EnrollmentFactory(person__household=split, year=YEAR, **confirmed).person
    pending = EnrollmentFactory(person__household=split, year=YEAR, status=S.PENDING).person
    PersonFactory(household__village=v1, household__number="0003")  # no record, no reason
    away = EnrollmentFactory(
        person__household__village=v1, year=YEAR, status=S.EXCLUDED, exclusion_reason=ExclusionReason.ENROLLED_ELSEWHERE
    ).person
    refused = EnrollmentFactory(
        person__household__village=v1, year=YEAR, status=S.EXCLUDED, exclusion_reason=ExclusionReason.REFUSED
    ).person
    PersonFactory(household__village=v1, is_deceased=True)
    poor = SubsidyCategory.objects.create(policy=policy, code="dibao", name="低保对象", is_special_group=True)
    disabled = SubsidyCategory.objects.create(policy=policy, code="cj", name="重度残疾人", is_special_group=True)
    everyone = SubsidyCategory.objects.create(policy=policy, code="all", name="普通居民", is_special_group=False)
    for person, cat in [(head, poor), (pending, poor), (pending, disabled), (pending, everyone), (away, poor), (refused, disabled)]:
        PersonIdentity.objects.create(person=person, category=cat, year=YEAR, certified_on=date(2024, 9, 1))
    return {"village": v1, "pending": pending, "refused": refused, "away": away, "split": split}


def test_gaps_are_one_definition_roster_gap_list_and_figures(regions, users, village):
    v1 = village["village"]
    row = figures.village_figures(village_ids=[v1.pk], year=YEAR, day=DAY)[v1.pk]
    # pending member + no-record person; not the paid household, the excluded or the deceased
    assert (row["gaps"], row["gap_households"]) == (2, 2)
    roster = PersonFilterSet({"status": GAP}, queryset=persons_with_status(user=users["bureau"], year=YEAR).filter(household__village=v1))
    assert roster.qs.count() == row["gaps"]
    gap_list = selectors.households_with_gaps(user=users["bureau"], village=v1, year=YEAR)
    assert gap_list.count() == row["gap_households"]
    assert "0001" not in {h.number for h in gap_list}, "a paid household is no gap"


def test_special_group_counts_each_person_once_and_not_those_insured_elsewhere(regions, users, village):
    v1 = village["village"]
    row = figures.village_figures(village_ids=[v1.pk], year=YEAR, day=DAY)[v1.pk]
    # head (confirmed), pending (two special categories: once), refused (still to enrol); not away
    assert (row["special_total"], row["special_confirmed"]) == (3, 1)
    listed = list(selectors.special_missing(user=users["bureau"], region=regions["county"], year=YEAR, day=DAY))
    assert sorted(p.pk for p in listed) == sorted([village["pending"].pk, village["refused"].pk])
    pending = next(p for p in listed if p.pk == village["pending"].pk)
    assert sorted(i.category.name for i in pending.special_categories) == ["低保对象", "重度残疾人"]
    assert pending.household.village.parent == regions["t1"]
    assert len(listed) == row["special_total"] - row["special_confirmed"]
