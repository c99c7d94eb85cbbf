"""Today's figures kept current (reporting.current): a refresh recomputes only the villages that
changed, and what it stores always equals a full recompute."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollment.choices import EnrollmentStatus as S
from enrollment.models import Enrollment, Household, Person, PersonIdentity
from reporting import current, figures, selectors, services
from reporting.models import COUNT_FIELDS, CurrentFigures, ProgressSnapshot
from subsidies.models import SubsidyCategory
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory, VillageFactory
from tests.factories.reporting import ReportingPolicyFactory

DAY = date(2024, 10, 6)
YEAR = 2025


@pytest.fixture(autouse=True)
def no_commit_margin(settings):
    """The tests' writes all fall within seconds of each refresh: without a margin, a refresh
    sees exactly the changes since the previous one (test_a_late_commit_… sets one)."""
    settings.CANBAO_FIGURES_COMMIT_MARGIN = 0


def age(seconds: int) -> None:
    CurrentFigures.objects.update(taken_at=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture
def county(regions):
    """Three villages with residents: 甲一村 and 甲二村 in 甲镇, 乙一村 in 乙镇."""
    ReportingPolicyFactory(county=regions["county"])
    for village in (regions["v1"], regions["v2"], regions["v3"]):
        household = HouseholdFactory(village=village)
        EnrollmentFactory.create_batch(2, person__household=household, year=YEAR, status=S.PENDING)
        EnrollmentFactory(person__household=household, year=YEAR, status=S.PAID, paid_on=DAY, amount_due=Decimal("400.00"))
    return regions


def stored(regions) -> dict[int, dict]:
    keys = (*COUNT_FIELDS, "money_collected", "quota_base", "quota_target")
    return {row.region_id: {k: getattr(row, k) for k in keys} for row in CurrentFigures.objects.filter(county=regions["county"], year=YEAR)}


def recomputed(regions) -> dict[int, dict]:
    keys = (*COUNT_FIELDS, "money_collected", "quota_base", "quota_target")
    rows = figures.rolled_up_figures(county=regions["county"], year=YEAR, day=DAY)
    return {rid: {k: row[k] for k in keys} for rid, row in rows.items()}


@pytest.fixture
def recorded(monkeypatch):
    """The village ids each partial refresh recomputes."""
    calls = []
    real = current.village_figures
    monkeypatch.setattr(current, "village_figures", lambda **kw: calls.append(set(kw["village_ids"])) or real(**kw))
    return calls


def pay(person):
    enrollment = Enrollment.objects.get(person=person, year=YEAR)
    enrollment.status, enrollment.paid_on, enrollment.amount_due = S.PAID, DAY, Decimal("400.00")
    enrollment.save()


def test_the_first_read_of_the_day_stores_every_unit_and_equals_the_snapshot(county, users):
    town = selectors.progress(user=users["bureau"], region=county["t1"], day=DAY, year=YEAR, today=DAY)
    assert town["source"] == "current" and "（实时）" in town["as_of"]
    assert town["own"].collected == 2 and [c.region for c in town["children"]] == [county["v1"], county["v2"]]
    assert stored(county) == recomputed(county)
    services.snapshot_take(county=county["county"], day=DAY, year=YEAR)
    snap = ProgressSnapshot.objects.get(region=county["county"], date=DAY)
    assert (snap.collected, snap.money_collected) == (3, Decimal("1200.00")) == (
        CurrentFigures.objects.get(region=county["county"]).collected,
        CurrentFigures.objects.get(region=county["county"]).money_collected,
    )


def test_a_payment_shows_at_once_in_its_township_recomputing_only_its_village(county, users, recorded):
    bureau = users["bureau"]
    selectors.progress(user=bureau, region=county["t1"], day=DAY, year=YEAR, today=DAY)
    pending = Enrollment.objects.filter(village=county["v1"], status=S.PENDING).first().person
    pay(pending)
    current.refresh(county=county["county"], year=YEAR, day=DAY, region=county["t1"], now=timezone.now() + timedelta(seconds=5))
    assert recorded == [{county["v1"].pk}], "only the village that changed is recomputed"
    town = selectors.progress(user=bureau, region=county["t1"], day=DAY, year=YEAR, today=DAY)
    assert town["own"].collected == 3
    assert stored(county) == recomputed(county), "the county above takes the new sums too"


def test_a_county_read_refreshes_once_its_figures_are_older_than_a_minute(county, users, settings, recorded):
    bureau = users["bureau"]
    first = selectors.progress(user=bureau, region=county["county"], day=DAY, year=YEAR, today=DAY)
    assert first["own"].collected == 3
    pay(Enrollment.objects.filter(village=county["v3"], status=S.PENDING).first().person)
    again = selectors.progress(user=bureau, region=county["county"], day=DAY, year=YEAR, today=DAY)
    assert again["own"].collected == 3 and not recorded, "within a minute the county reads what is stored"
    settings.CANBAO_FIGURES_MAX_AGE = 0  # as if a minute had passed
    later = selectors.progress(user=bureau, region=county["county"], day=DAY, year=YEAR, today=DAY)
    assert later["own"].collected == 4 and recorded == [{county["v3"].pk}]
    assert "（实时）" in later["as_of"]


def test_nothing_changed_recomputes_nothing_and_says_the_time(county, users, recorded):
    now = timezone.now()
    assert current.refresh(county=county["county"], year=YEAR, day=DAY, now=now) == "full"
    later = now + timedelta(minutes=5)
    assert current.refresh(county=county["county"], year=YEAR, day=DAY, now=later) == "current"
    assert not recorded
    row = CurrentFigures.objects.get(region=county["county"])
    assert row.taken_at == later
    assert "（每分钟更新）" in current.as_of_text(row, now=later + timedelta(minutes=2))


def test_every_kind_of_change_marks_its_village(county, recorded):
    now = timezone.now()
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=now)

    def refreshed():
        recorded.clear()
        current.refresh(county=county["county"], year=YEAR, day=DAY)
        return recorded[0] if recorded else set()

    person = Enrollment.objects.filter(village=county["v2"]).first().person
    person.is_deceased = True
    person.save()  # a person's own row
    assert refreshed() == {county["v2"].pk}
    household = HouseholdFactory(village=county["v3"])  # a household
    assert refreshed() == {county["v3"].pk}
    PersonFactory(household=household)  # a new resident with no record
    assert refreshed() == {county["v3"].pk}
    category = SubsidyCategory.objects.create(
        policy=county["county"].policy_years.get(year=YEAR), code="dibao", name="低保对象", is_special_group=True
    )
    someone = Enrollment.objects.filter(village=county["v1"]).first().person
    PersonIdentity.objects.create(person=someone, category=category, year=YEAR, certified_on=DAY)  # an identity
    assert refreshed() == {county["v1"].pk}
    assert stored(county) == recomputed(county)


def test_a_new_day_and_the_safety_interval_recompute_everything(county, settings):
    now = timezone.now()
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=now)
    assert current.refresh(county=county["county"], year=YEAR, day=DAY + timedelta(days=1), now=now) == "full"
    assert CurrentFigures.objects.get(region=county["county"]).date == DAY + timedelta(days=1)
    settings.CANBAO_FIGURES_FULL_EVERY = 600
    assert current.refresh(county=county["county"], year=YEAR, day=DAY + timedelta(days=1), now=now + timedelta(seconds=601)) == "full"


def test_a_village_added_to_the_county_gets_its_row(county, users):
    current.refresh(county=county["county"], year=YEAR, day=DAY)
    new = VillageFactory(parent=county["t2"], name="乙二村")
    EnrollmentFactory(person__household__village=new, year=YEAR, status=S.PAID, paid_on=DAY)
    age(5)
    other = selectors.progress(user=users["bureau"], region=county["t1"], day=DAY, year=YEAR, today=DAY)
    assert other["own"].collected == 2, "another township's refresh computes the new village for the sums"
    assert CurrentFigures.objects.get(region=county["county"]).collected == 4
    age(5)
    town = selectors.progress(user=users["bureau"], region=county["t2"], day=DAY, year=YEAR, today=DAY)
    assert new in [c.region for c in town["children"]] and town["own"].collected == 2


def test_a_township_read_costs_the_same_queries_whatever_the_county(county, users, django_assert_max_num_queries):
    bureau = users["bureau"]
    selectors.progress(user=bureau, region=county["t1"], day=DAY, year=YEAR, today=DAY)
    for n in range(6):
        village = VillageFactory(parent=county["t2"], name=f"新村{n}")
        EnrollmentFactory(person__household__village=village, year=YEAR, status=S.PAID, paid_on=DAY)
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=timezone.now() + timedelta(seconds=10))
    age(30)
    # children, stored time, lock, rows, tree (2), history (4 + 1), the changed villages' figures
    # (6), quotas, the write, the read — and savepoints: none of them grows with the county
    with django_assert_max_num_queries(22):
        town = selectors.progress(user=bureau, region=county["t1"], day=DAY, year=YEAR, today=DAY)
    assert town["own"].collected == 2


def test_a_user_reads_only_their_own_region(county, users):
    township_user = users["clerk"]
    selectors.progress(user=users["bureau"], region=county["county"], day=DAY, year=YEAR, today=DAY)
    town = selectors.progress(user=township_user, region=county["t1"], day=DAY, year=YEAR, today=DAY)
    assert {c.region for c in town["children"]} <= {county["v1"], county["v2"]}
    rows = current.figures_for(user=township_user, region=county["t1"], ids=[county["t2"].pk, county["v3"].pk], year=YEAR, day=DAY)
    assert rows == {}


def test_a_late_commit_is_found_within_the_margin(county, settings, recorded):
    """History is stamped when a row is written, not when its transaction commits: a change
    stamped just before a refresh but committed after it is looked for again next time."""
    settings.CANBAO_FIGURES_COMMIT_MARGIN = 30
    for model in (Enrollment, Household, Person):
        model.history.model.objects.update(history_date=timezone.now() - timedelta(hours=1))
    pay(Enrollment.objects.filter(village=county["v2"], status=S.PENDING).first().person)  # stamped now
    now = timezone.now()
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=now - timedelta(seconds=10))  # "before the commit"
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=now + timedelta(seconds=5))
    assert recorded == [{county["v2"].pk}]
    settings.CANBAO_FIGURES_COMMIT_MARGIN = 0
    current.refresh(county=county["county"], year=YEAR, day=DAY, now=now + timedelta(seconds=10))
    assert recorded == [{county["v2"].pk}], "without a margin the same change is not looked for again"


def test_the_minute_job_refreshes_every_county_in_season(regions, monkeypatch):
    from reporting import tasks

    today = timezone.localdate()
    ReportingPolicyFactory(county=regions["county"], window_start=today - timedelta(days=5), window_end=today + timedelta(days=5))
    done = tasks.refresh_current_figures()
    assert done == {regions["county"].code: "full"}
    assert CurrentFigures.objects.filter(county=regions["county"], date=today).count() == 6
    assert tasks.refresh_current_figures() == {regions["county"].code: "current"}


def test_a_future_date_reads_todays_figures_without_recomputing(county, users, recorded):
    selectors.progress(user=users["bureau"], region=county["t1"], day=DAY, year=YEAR, today=DAY)
    ahead = selectors.progress(user=users["bureau"], region=county["t1"], day=DAY + timedelta(days=30), year=YEAR, today=DAY)
    assert ahead["own"].date == DAY and ahead["source"] == "current"
    assert CurrentFigures.objects.get(region=county["county"]).date == DAY, "the stored day is not moved"
