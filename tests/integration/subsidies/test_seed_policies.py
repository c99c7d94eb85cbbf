"""The seeds' policy years as loaded by `make run`: every subsidy figure reproduced."""

from datetime import date, time
from decimal import Decimal as D

import pytest

from core.models import Region
from subsidies import selectors
from subsidies.models import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory
from subsidies.policies import PolicyFileError, load_policies, resolve_amount
from tests.factories.subsidies import load_seed_policies

from .seed_figures import ALL, BY_COUNTY, SHIZHU_TABLE, mismatches

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("county", BY_COUNTY)
def test_every_seed_figure_via_selectors(seed_policies, county):
    def compute(case):
        code, year, tier, student, name, *_ = case
        q = selectors.quote(county_code=code, year=year, tier=tier, categories=[name] if name else [], student=student)
        if name:
            assert q.owed.category.name == name
        return q.owed.standard, q.owed.subsidy, q.owed.self_pay

    assert mismatches(BY_COUNTY[county], compute) == []


def test_every_figure_is_covered():
    assert len(ALL) == 8 + 6 + 7 + (14 * 2 + 1 + 4) + 9


def test_make_run_loader(db):
    load_seed_policies(full=True)
    assert Region.objects.filter(parent__code="430682").exists()  # Jiangnan's villages come with it
    test_five_policy_years_loaded(None)


def test_five_policy_years_loaded(seed_policies):
    got = set(PolicyYear.objects.values_list("county__code", "year"))
    assert got == {("411325", 2025), ("430682", 2025), ("140521", 2025), ("500240", 2025), ("130628", 2024)}
    assert all(p.source.startswith("shared/seeds/") for p in PolicyYear.objects.all())


def test_shizhu_has_15_categories_and_category_15_only_tier_2(seed_policies):
    policy = PolicyYear.objects.get(county__code="500240", year=2025)
    cats = list(policy.categories.order_by("sort_order"))
    assert [c.name for c in cats] == [row[1] for row in SHIZHU_TABLE]
    assert list(cats[14].amounts.values_list("tier", "amount")) == [(2, D("775.00"))]
    assert CategorySubsidy.objects.filter(category__policy=policy).count() == 29
    assert [(t.number, t.standard, t.student_standard) for t in policy.tiers.all()] == [
        (1, D("400.00"), D("380.00")), (2, D("775.00"), D("755.00")),
    ]
    departments = {c.department_label for c in cats}
    assert departments == {"县卫生健康委", "县残联", "县乡村振兴局", "县民政局", "县退役军人事务局"}


def test_tier_1_quote_for_category_15_falls_back_to_no_subsidy(seed_policies):
    q = selectors.quote(county_code="500240", year=2025, tier=1, categories=["15"])
    assert (q.owed.subsidy, q.owed.self_pay) == (D("0.00"), D("400.00"))


def test_settings_transcribed(seed_policies):
    nx = PolicyYear.objects.get(county__code="411325")
    assert (nx.window_start, nx.window_end, nx.extension_end) == (date(2024, 9, 1), date(2024, 12, 31), None)
    assert (nx.remit_days, nx.remit_amount, nx.ranking_weekday) == (5, D("10000.00"), 5)
    assert (nx.work_fund_per_person, nx.prize_pool, nx.fiscal_subsidy) == (D("1.50"), D("300000.00"), D("670.00"))
    assert nx.newborn_window_days == 90 and nx.newborn_free_if_parent_insured
    assert list(PrizeGrade.objects.filter(policy=nx).values_list("rank", "count", "amount")) == [(1, None, None), (2, None, None), (3, None, None)]
    assert list(PhaseTarget.objects.filter(policy=nx).values_list("due", "rate")) == [(date(2024, 10, 31), D("90.00")), (date(2024, 11, 30), D("100.00"))]

    jn = PolicyYear.objects.get(county__code="430682")
    assert (jn.daily_cutoff, jn.ranking_weekday, jn.interview_after_weeks) == (time(17, 0), 1, 2)
    assert list(PrizeGrade.objects.filter(policy=jn).values_list("count", "amount")) == [(1, D("30000.00")), (1, D("20000.00")), (2, D("10000.00"))]

    qs = PolicyYear.objects.get(county__code="140521")
    assert (qs.window_start, qs.window_end, qs.payment_day_from, qs.payment_day_to) == (date(2024, 9, 1), date(2025, 2, 28), 1, 25)
    assert qs.target_rate == D("99.50") and qs.newborn_window_months == 6
    assert SubsidyCategory.objects.get(policy=qs, applies_to_all=True).name == "普通城乡居民"
    assert qs.late_identity_refunds_difference

    sz = PolicyYear.objects.get(county__code="500240")
    assert (sz.window_end, sz.extension_end, sz.midyear_from) == (date(2024, 12, 31), date(2025, 2, 28), date(2025, 7, 1))
    assert sz.midyear_pays_fiscal_subsidy and sz.fiscal_subsidy == D("670.00")
    assert (sz.weekly_reports_from, sz.daily_reports_from) == (date(2024, 10, 1), date(2024, 12, 15))
    assert sz.newborn_late_wait_days == 90 and sz.refund_only_if_paid_in_full
    # Publicity: Neixiang posts the tax office's list of everyone who paid, ≥ 5 working days;
    # Shizhu posts cash payers, in full within a month of the window, then every quarter.
    assert (nx.publicity_payers, nx.posting_working_days, nx.posting_due_months, nx.posting_every_months) == ("all", 5, None, None)
    assert (sz.publicity_payers, sz.posting_working_days, sz.posting_due_months, sz.posting_every_months) == ("cash", None, 1, 3)
    assert {p.publicity_payers for p in PolicyYear.objects.exclude(county__code__in=["411325", "500240"])} == {""}

    gy = PolicyYear.objects.get(county__code="130628")
    assert (gy.year, gy.window_start, gy.window_end) == (2024, date(2023, 9, 1), date(2023, 12, 25))
    assert (gy.fiscal_subsidy, gy.target_rate, gy.newborn_window_days, gy.ranking_every_days) == (D("640.00"), D("95.00"), 180, 15)
    assert gy.whole_household_rule and gy.late_identity_refunds_difference and gy.refund_after_window
    percents = dict(CategorySubsidy.objects.filter(category__policy=gy).values_list("category__name", "percent"))
    assert percents["特困人员"] == D("100.00") and percents["低保对象"] == D("90.00") and percents["其他脱贫人口"] == D("70.00")


def test_refund_reasons_of_each_seed_county(seed_policies):
    # Seed 004 (Gaoyang) l.22: "因死亡、服役、服刑以及重复缴费、参加职工医保或其他统筹地区居民医保"; the others
    # quote 国家医保办函〔2021〕11号 or nothing (the national set), with the difference where refunded.
    reasons = {p.county.code: p.refund_reason_codes() for p in PolicyYear.objects.select_related("county")}
    assert reasons["130628"] == ["death", "military", "prison", "duplicate", "employee", "elsewhere", "subsidy_difference"]
    assert reasons["411325"] == reasons["430682"] == ["death", "duplicate", "employee", "elsewhere"]
    assert reasons["140521"] == reasons["500240"] == ["death", "duplicate", "employee", "elsewhere", "subsidy_difference"]
    for policy in PolicyYear.objects.all():
        policy.full_clean()


def test_loading_twice_changes_nothing(seed_policies):
    counts = (PolicyYear.history.count(), SubsidyCategory.history.count(), CategorySubsidy.history.count())
    load_policies()
    assert (PolicyYear.history.count(), SubsidyCategory.history.count(), CategorySubsidy.history.count()) == counts
    assert SubsidyCategory.objects.count() == 7 + 5 + 6 + 15 + 8


def test_loading_restores_an_edited_figure(seed_policies):
    cs = CategorySubsidy.objects.get(category__policy__county__code="140521", category__code="dibao")
    cs.amount = D("1.00")
    cs.save()
    load_policies()
    cs.refresh_from_db()
    assert cs.amount == D("320.00")


@pytest.mark.parametrize(
    "spec, standard, expected",
    [("80.00", "400", (D("80.00"), None)), ({"percent": "90"}, "380", (D("342.00"), D("90"))),
     ({"percent": "90", "amount": "360.00"}, "400", (D("360.00"), D("90")))],
)
def test_resolve_amount(spec, standard, expected):
    got = resolve_amount(spec, D(standard))
    assert (got["amount"], got["percent"]) == expected


def test_resolve_amount_rejects_disagreeing_percent():
    with pytest.raises(PolicyFileError):
        resolve_amount({"percent": "90", "amount": "350.00"}, D("400"), where="x.json", category="返贫致贫人口", tier=1)


def test_quote_by_code_and_name_mixed(seed_policies):
    q = selectors.quote(county_code="140521", year=2025, categories=["jiance", "低保对象"])
    assert q.owed.category.code == "dibao" and q.owed.self_pay == D("80.00")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"county_code": "999999", "year": 2025}, selectors.ERR_NO_COUNTY.format(code="999999")),
        ({"county_code": "411325", "year": 2030}, selectors.ERR_NO_POLICY.format(county="内乡县", year=2030)),
        ({"county_code": "411325", "year": 2025, "tier": 2}, selectors.ERR_NO_TIER.format(year=2025, tier=2)),
        ({"county_code": "411325", "year": 2025, "categories": ["不存在"]}, selectors.ERR_UNKNOWN_CATEGORY.format(year=2025, name="不存在")),
    ],
)
def test_quote_errors(seed_policies, kwargs, message):
    with pytest.raises(selectors.PolicyMissing) as exc:
        selectors.quote(**kwargs)
    assert str(exc.value) == message


def test_region_codes_are_counties(seed_policies):
    assert Region.objects.filter(code__in=["411325", "430682", "140521", "500240", "130628"], level="county").count() == 5
