"""owed_by (called by the roster, payments and households) over real identities."""

import itertools
from datetime import date
from decimal import Decimal as D

import pytest

from enrollment.models import Region
from subsidies import selectors
from subsidies.calc import Owed
from subsidies.models import PolicyYear, SubsidyCategory
from tests.factories import HouseholdFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory
from tests.factories.subsidies import PersonIdentityFactory, PolicyYearFactory, SubsidyCategoryFactory

pytestmark = pytest.mark.django_db


_codes = itertools.count(900)


def person_in(county_code, **kwargs):
    county = Region.objects.get(code=county_code)
    town = TownshipFactory(parent=county, code=f"{county_code}{next(_codes)}")
    village = VillageFactory(parent=town, code=f"{town.code}001")
    return PersonFactory(household=HouseholdFactory(village=village), **kwargs)


def identity(person, county_code, category, certified, year=None):
    policy = PolicyYear.objects.get(county__code=county_code, year=year or 2025)
    cat = SubsidyCategory.objects.get(policy=policy, name=category)
    return PersonIdentityFactory(person=person, category=cat, year=policy.year, certified_on=certified)


def test_owed_by_returns_owed(seed_policies):
    p = person_in("411325")
    result = selectors.owed_by(person=p, year=2025)
    assert isinstance(result, Owed)
    assert (result.standard, result.subsidy, result.self_pay, result.category) == (D("400.00"), D("0.00"), D("400.00"), None)


def test_multi_identity_best_single_applies(seed_policies):
    p = person_in("500240")
    identity(p, "500240", "城乡重度（一、二级）残疾人员", date(2024, 10, 20))  # 280 / 400
    identity(p, "500240", "城乡低保对象", date(2024, 11, 1))  # 360 / 400
    identity(p, "500240", "计生优抚（奖扶）对象", date(2024, 11, 1))  # 320 / 320
    one = selectors.owed_by(person=p, year=2025, tier=1)
    two = selectors.owed_by(person=p, year=2025, tier=2)
    assert (one.subsidy, one.self_pay, one.category.name) == (D("360.00"), D("40.00"), "城乡低保对象")
    assert (two.subsidy, two.self_pay) == (D("400.00"), D("375.00"))


def test_identity_certified_after_window_counts_next_year(seed_policies):
    p = person_in("411325")
    identity(p, "411325", "特困人员", date(2025, 1, 1))
    identity(p, "411325", "低保对象", date(2024, 12, 31))
    result = selectors.owed_by(person=p, year=2025)
    assert (result.subsidy, result.category.name) == (D("80.00"), "低保对象")


def test_qinshui_everyone_gets_80_and_identity_replaces_it(seed_policies):
    p = person_in("140521")
    assert selectors.owed_by(person=p, year=2025).self_pay == D("320.00")
    identity(p, "140521", "返贫致贫人口", date(2025, 2, 28))  # last day of Qinshui's window
    assert selectors.owed_by(person=p, year=2025).self_pay == D("40.00")


def test_student_standard(seed_policies):
    p = person_in("500240", is_student=True)
    assert selectors.owed_by(person=p, year=2025, tier=2).self_pay == D("755.00")
    identity(p, "500240", "特困人员", date(2024, 11, 1))
    assert selectors.owed_by(person=p, year=2025, tier=1).self_pay == D("0.00")  # 380 − 400, never below zero


def test_midyear_with_paid_on(seed_policies):
    p = person_in("500240")
    assert selectors.owed_by(person=p, year=2025, paid_on=date(2025, 7, 1)).self_pay == D("1070.00")
    q = person_in("500240")
    identity(q, "500240", "城乡低保对象", date(2024, 11, 1))
    assert selectors.owed_by(person=q, year=2025, paid_on=date(2025, 7, 1)).self_pay == D("40.00")


def test_identity_of_another_year_ignored(seed_policies):
    p = person_in("130628")
    identity(p, "130628", "特困人员", date(2023, 10, 1), year=2024)
    assert selectors.owed_by(person=p, year=2024).self_pay == D("0.00")
    with pytest.raises(selectors.PolicyMissing):
        selectors.owed_by(person=p, year=2025)


def test_department_sees_only_its_categories(regions, users):
    policy = PolicyYearFactory(county=regions["county"])
    civil = SubsidyCategoryFactory(policy=policy, department="civil_affairs", amounts={1: "80"})
    rural = SubsidyCategoryFactory(policy=policy, department="rural", amounts={1: "80"})
    v1 = regions["v1"]
    a = PersonIdentityFactory(person=PersonFactory(household=HouseholdFactory(village=v1)), category=civil)
    b = PersonIdentityFactory(person=PersonFactory(household=HouseholdFactory(village=v1)), category=rural)
    assert set(selectors.categories_visible_to(users["dept"])) == {civil}
    assert set(selectors.identities_visible_to(users["dept"])) == {a}
    assert set(selectors.identities_visible_to(users["bureau"])) == {a, b}
    assert set(selectors.identities_visible_to(users["clerk2"])) == set()
    assert set(selectors.identities_visible_to(users["nobody"])) == set()
    other = UserFactory(role="bureau", region=TownshipFactory().parent)
    assert set(selectors.identities_visible_to(other)) == set()


from .seed_figures import BY_COUNTY, mismatches  # noqa: E402


@pytest.mark.parametrize("county", BY_COUNTY)
def test_every_seed_figure_via_owed_by(seed_policies, county):
    """The path the household page and payments use: a person holding the identity (certified on
    the last day of the window)."""

    def compute(case):
        code, year, tier, student, name, *_ = case
        p = person_in(code, is_student=student)
        if name and not SubsidyCategory.objects.get(policy__county__code=code, policy__year=year, name=name).applies_to_all:
            window_end = PolicyYear.objects.get(county__code=code, year=year).window_end
            identity(p, code, name, window_end, year=year)
        result = selectors.owed_by(person=p, year=year, tier=tier)
        return result.standard, result.subsidy, result.self_pay

    assert mismatches(BY_COUNTY[county], compute) == []
