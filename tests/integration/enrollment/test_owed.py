"""What a resident on the roster owes (enrollment.owed, asking subsidies.book) over real identities."""

import itertools
from datetime import date
from decimal import Decimal as D

import pytest

from core.models import Region
from enrollment import owed
from enrollment import selectors as roster_selectors
from subsidies import selectors, services
from subsidies.calc import NOTE_LATE_IDENTITY, NOTE_MIDYEAR, NOTE_MIDYEAR_NEWBORN, Owed
from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory
from tests.factories import HouseholdFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory, make_id
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
    result = owed.owed_by(person=p, year=2025)
    assert isinstance(result, Owed)
    assert (result.standard, result.subsidy, result.self_pay, result.category) == (D("400.00"), D("0.00"), D("400.00"), None)


def test_multi_identity_best_single_applies(seed_policies):
    p = person_in("500240")
    identity(p, "500240", "城乡重度（一、二级）残疾人员", date(2024, 10, 20))  # 280 / 400
    identity(p, "500240", "城乡低保对象", date(2024, 11, 1))  # 360 / 400
    identity(p, "500240", "计生优抚（奖扶）对象", date(2024, 11, 1))  # 320 / 320
    one = owed.owed_by(person=p, year=2025, tier=1)
    two = owed.owed_by(person=p, year=2025, tier=2)
    assert (one.subsidy, one.self_pay, one.category.name) == (D("360.00"), D("40.00"), "城乡低保对象")
    assert (two.subsidy, two.self_pay) == (D("400.00"), D("375.00"))


def test_identity_certified_after_window_counts_next_year(seed_policies):
    p = person_in("411325")
    identity(p, "411325", "特困人员", date(2025, 1, 1))
    identity(p, "411325", "低保对象", date(2024, 12, 31))
    result = owed.owed_by(person=p, year=2025)
    assert (result.subsidy, result.category.name) == (D("80.00"), "低保对象")


def test_qinshui_everyone_gets_80_and_identity_replaces_it(seed_policies):
    p = person_in("140521")
    assert owed.owed_by(person=p, year=2025).self_pay == D("320.00")
    identity(p, "140521", "返贫致贫人口", date(2025, 2, 28))  # last day of Qinshui's window
    assert owed.owed_by(person=p, year=2025).self_pay == D("40.00")


def test_student_standard(seed_policies):
    p = person_in("500240", is_student=True)
    assert owed.owed_by(person=p, year=2025, tier=2).self_pay == D("755.00")
    identity(p, "500240", "特困人员", date(2024, 11, 1))
    assert owed.owed_by(person=p, year=2025, tier=1).self_pay == D("0.00")  # 380 − 400, never below zero


def test_midyear_with_paid_on(seed_policies):
    p = person_in("500240")
    assert owed.owed_by(person=p, year=2025, paid_on=date(2025, 7, 1)).self_pay == D("1070.00")
    q = person_in("500240")
    identity(q, "500240", "城乡低保对象", date(2024, 11, 1))
    assert owed.owed_by(person=q, year=2025, paid_on=date(2025, 7, 1)).self_pay == D("40.00")


def test_identity_of_another_year_ignored(seed_policies):
    p = person_in("130628")
    identity(p, "130628", "特困人员", date(2023, 10, 1), year=2024)
    assert owed.owed_by(person=p, year=2024).self_pay == D("0.00")
    with pytest.raises(selectors.PolicyMissing):
        owed.owed_by(person=p, year=2025)


def test_department_sees_only_its_categories(regions, users):
    policy = PolicyYearFactory(county=regions["county"])
    civil = SubsidyCategoryFactory(policy=policy, department="civil_affairs", amounts={1: "80"})
    rural = SubsidyCategoryFactory(policy=policy, department="rural", amounts={1: "80"})
    v1 = regions["v1"]
    a = PersonIdentityFactory(person=PersonFactory(household=HouseholdFactory(village=v1)), category=civil)
    b = PersonIdentityFactory(person=PersonFactory(household=HouseholdFactory(village=v1)), category=rural)
    assert set(selectors.categories_visible_to(users["dept"])) == {civil}
    assert set(roster_selectors.identities_visible_to(users["dept"])) == {a}
    assert set(roster_selectors.identities_visible_to(users["bureau"])) == {a, b}
    assert set(roster_selectors.identities_visible_to(users["clerk2"])) == set()
    assert set(roster_selectors.identities_visible_to(users["nobody"])) == set()
    other = UserFactory(role="bureau", region=TownshipFactory().parent)
    assert set(roster_selectors.identities_visible_to(other)) == set()


from tests.integration.subsidies.seed_figures import BY_COUNTY, mismatches  # noqa: E402


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
        result = owed.owed_by(person=p, year=year, tier=tier)
        return result.standard, result.subsidy, result.self_pay

    assert mismatches(BY_COUNTY[county], compute) == []


# --- Newborns and the mid-year rule (Shizhu 003: 独立参保的新生儿，只缴纳个人应承担的费用) ------------


def baby_in(county_code, born):
    return person_in(county_code, id_number=make_id(county_code, born, sex="F"), birth_date=born)


@pytest.mark.parametrize(
    "label, born, paid, self_pay, note",
    [
        ("born 20 June, paid 10 July: individual part", date(2025, 6, 20), date(2025, 7, 10), "400.00", NOTE_MIDYEAR_NEWBORN),
        ("paid on day 90", date(2025, 6, 20), date(2025, 9, 18), "400.00", NOTE_MIDYEAR_NEWBORN),
        ("paid on day 91: mid-year rule", date(2025, 6, 20), date(2025, 9, 19), "1070.00", NOTE_MIDYEAR),
        ("born in March, paid in August (past 90 days)", date(2025, 3, 1), date(2025, 8, 1), "1070.00", NOTE_MIDYEAR),
        ("adult paid in July", date(1980, 5, 17), date(2025, 7, 10), "1070.00", NOTE_MIDYEAR),
    ],
)
def test_owed_by_newborn_skips_midyear_rule(seed_policies, label, born, paid, self_pay, note):
    p = baby_in("500240", born)
    result = owed.owed_by(person=p, year=2025, tier=1, paid_on=paid)
    assert result.self_pay == D(self_pay)
    assert note in result.notes


def test_owed_by_newborn_keeps_identity_subsidy(seed_policies):
    p = baby_in("500240", date(2025, 6, 20))
    identity(p, "500240", "城乡重度（一、二级）残疾人员", date(2024, 12, 1))  # 280 / 400, not low-income
    assert owed.owed_by(person=p, year=2025, tier=1, paid_on=date(2025, 7, 10)).self_pay == D("120.00")
    assert owed.owed_by(person=p, year=2025, tier=2, paid_on=date(2025, 7, 10)).self_pay == D("375.00")


def test_quote_newborn_skips_midyear_rule(seed_policies):
    q = selectors.quote(county_code="500240", year=2025, tier=1, paid_on=date(2025, 7, 10), birth_date=date(2025, 6, 20))
    assert q.owed.self_pay == D("400.00") and NOTE_MIDYEAR_NEWBORN in q.notes
    assert q.cover.start == date(2025, 6, 20)
    late = selectors.quote(county_code="500240", year=2025, tier=1, paid_on=date(2025, 9, 19), birth_date=date(2025, 6, 20))
    assert late.owed.self_pay == D("1070.00")


# --- Identities certified after the window count from the next year ---------------------------


@pytest.fixture
def shizhu_2026(seed_policies):
    county = Region.objects.get(code="500240")
    bureau = UserFactory(role="bureau", region=county)
    return services.policy_copy(actor=bureau, policy=PolicyYear.objects.get(county=county, year=2025))


def test_late_identity_applies_next_year(shizhu_2026):
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2025, 3, 1))  # Shizhu 2025 window ended 2024-12-31
    this_year = owed.owed_by(person=p, year=2025, tier=1)
    assert (this_year.self_pay, this_year.category) == (D("400.00"), None)
    assert NOTE_LATE_IDENTITY in this_year.notes
    one = owed.owed_by(person=p, year=2026, tier=1)
    two = owed.owed_by(person=p, year=2026, tier=2)
    assert (one.subsidy, one.self_pay, one.category.name) == (D("360.00"), D("40.00"), "城乡低保对象")
    assert (two.subsidy, two.self_pay) == (D("400.00"), D("375.00"))
    assert NOTE_LATE_IDENTITY not in one.notes


def test_late_identity_uses_next_years_amount(shizhu_2026):
    CategorySubsidy.objects.filter(category__policy=shizhu_2026, category__name="城乡低保对象", tier=1).update(amount=D("380.00"))
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2025, 3, 1))
    assert owed.owed_by(person=p, year=2026, tier=1).self_pay == D("20.00")


def test_identity_certified_in_the_window_is_not_carried_over(shizhu_2026):
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2024, 12, 31))
    assert owed.owed_by(person=p, year=2025, tier=1).self_pay == D("40.00")
    assert owed.owed_by(person=p, year=2026, tier=1).self_pay == D("400.00")  # re-certified per year


def test_late_identity_needs_the_category_next_year(shizhu_2026):
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2025, 3, 1))
    SubsidyCategory.objects.filter(policy=shizhu_2026, name="城乡低保对象").update(code="renamed")
    assert owed.owed_by(person=p, year=2026, tier=1).self_pay == D("400.00")


def test_late_identity_and_next_years_identity_best_one(shizhu_2026):
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2025, 3, 1))  # carried: 360
    identity(p, "500240", "特困人员", date(2025, 11, 1), year=2026)  # 2026's own: 400
    result = owed.owed_by(person=p, year=2026, tier=1)
    assert (result.self_pay, result.category.name) == (D("0.00"), "特困人员")


def test_late_identity_not_carried_two_years(shizhu_2026):
    county = Region.objects.get(code="500240")
    services.policy_copy(actor=UserFactory(role="bureau", region=county), policy=shizhu_2026)
    p = person_in("500240")
    identity(p, "500240", "城乡低保对象", date(2025, 3, 1))
    assert owed.owed_by(person=p, year=2027, tier=1).self_pay == D("400.00")


def test_receipt_for_newborn_paid_in_july_charges_individual_part(seed_policies, monkeypatch):
    """The receipt path (collections_app.receipt_issue → owed_by with today's date): a Shizhu baby born
    20 June, paid 10 July, is charged 400, an adult of the same household 1,070."""
    from django.utils import timezone

    from collections_app.cash.services import receipt_issue
    from enrollment.choices import PaymentChannel

    baby = baby_in("500240", date(2025, 6, 20))
    adult = PersonFactory(household=baby.household)
    collector = UserFactory(role="collector", region=baby.household.village)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2025, 7, 10))
    receipt = receipt_issue(actor=collector, household=baby.household, persons=[baby, adult], channel=PaymentChannel.CASH, year=2025)
    amounts = dict(receipt.lines.values_list("person_id", "amount"))
    assert amounts == {baby.pk: D("400.00"), adult.pk: D("1070.00")}
    assert receipt.total == D("1470.00")


# --- cover_by: when a real resident's cover starts -------------------------------------------


def _enrolled(person, year, status="confirmed"):
    from enrollment.models import Enrollment

    return Enrollment.objects.create(person=person, year=year, village=person.household.village, status=status)


def test_cover_by_window_extension_and_waiting_period(seed_policies):
    p = person_in("500240", id_number=make_id("500240", date(1980, 5, 17)))
    # Shizhu: paid in the window → 1 January; in the extension → the 1st of the next month.
    assert owed.cover_by(person=p, year=2025, paid_on=date(2024, 11, 5)).start == date(2025, 1, 1)
    assert owed.cover_by(person=p, year=2025, paid_on=date(2025, 1, 20)).start == date(2025, 2, 1)
    # Enrolled for 2022, then missed 2023 and 2024: a break of 2 years → 3 + 1 months after an
    # extension payment.
    _enrolled(p, 2022)
    assert owed.break_years_before(person=p, year=2025) == 2
    cover = owed.cover_by(person=p, year=2025, paid_on=date(2025, 1, 20))
    assert (cover.start, cover.waiting_months) == (date(2025, 5, 20), 4)


def test_cover_by_no_break_when_last_year_was_paid(seed_policies):
    p = person_in("500240", id_number=make_id("500240", date(1980, 5, 17)))
    _enrolled(p, 2024)
    _enrolled(p, 2023, status="pending")  # an unpaid year further back is not a break now
    assert owed.break_years_before(person=p, year=2025) == 0


def test_cover_by_newborn_from_birth(seed_policies):
    baby = person_in("500240", id_number=make_id("500240", date(2025, 3, 10), sex="F"))
    assert owed.cover_by(person=baby, year=2025, paid_on=date(2025, 4, 1)).start == date(2025, 3, 10)


def test_cover_by_without_policy_is_none(seed_policies):
    p = person_in("500240", id_number=make_id("500240", date(1980, 5, 17)))
    assert owed.cover_by(person=p, year=2031, paid_on=date(2030, 11, 1)) is None


def test_receipt_records_when_cover_starts_and_a_void_clears_it(seed_policies, monkeypatch):
    """receipt_issue keeps the cover start on the enrollment (refunds are refused from that day):
    Shizhu, paid 20 January 2025 in the extension → 1 February; after a two-year break → a
    4-month waiting period instead."""
    from django.utils import timezone

    from collections_app.cash.services import receipt_issue, receipt_void
    from enrollment.choices import PaymentChannel
    from enrollment.models import Enrollment

    steady = person_in("500240", id_number=make_id("500240", date(1980, 5, 17)))
    returning = PersonFactory(household=steady.household, id_number=make_id("500240", date(1975, 3, 3)))
    _enrolled(returning, 2022)
    collector = UserFactory(role="collector", region=steady.household.village)
    clerk = UserFactory(role="township", region=steady.household.village.parent)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2025, 1, 20))
    receipt = receipt_issue(actor=collector, household=steady.household, persons=[steady, returning], channel=PaymentChannel.CASH, year=2025)
    starts = dict(Enrollment.objects.filter(year=2025).values_list("person_id", "benefit_start"))
    assert starts == {steady.pk: date(2025, 2, 1), returning.pk: date(2025, 5, 20)}
    receipt_void(actor=clerk, receipt=receipt, reason="收错户")
    assert set(Enrollment.objects.filter(year=2025).values_list("benefit_start", flat=True)) == {None}


def test_owed_and_cover_for_many_persons_in_a_fixed_number_of_queries(seed_policies, django_assert_num_queries):
    """A township's thousands cost what one household does: the policy, its offers, the
    identities and the record of earlier years are each read once."""
    from subsidies.book import OwedBook

    first = person_in("411325")
    village = first.household.village
    persons = [first] + [PersonFactory(household=HouseholdFactory(village=village)) for _ in range(19)]
    for p in persons[::4]:
        identity(p, "411325", "特困人员", date(2024, 10, 1))
    book = OwedBook(village.county)
    with django_assert_num_queries(4):  # policy with its tiers (2), the tier's offers, identities
        owed_of = owed.owed_by_persons(persons=persons, year=2025, book=book)
    with django_assert_num_queries(2):  # identities, last paid years (the book keeps the policy)
        covers = owed.covers_by(persons=persons, year=2025, paid_on=date(2024, 11, 5), book=book)
    assert owed_of[persons[0].pk].self_pay == owed.owed_by(person=persons[0], year=2025).self_pay
    assert owed_of[persons[0].pk].self_pay < owed_of[persons[1].pk].self_pay
    assert covers[persons[1].pk].start == date(2025, 1, 1)
