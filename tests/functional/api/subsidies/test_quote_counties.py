"""/api/quote/ and the calculator page answer the county rules of issue 17: newborns across the
year boundary (with the birth year's amount), groups covered from a day, and the critical-illness
incentive — from the seed policies."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model

from subsidies import services
from subsidies.benefit import WHY_FROM_PAYMENT, WHY_PRIOR_BOTH, WHY_PRIOR_YEAR_END, WHY_WELFARE_CHILD
from subsidies.models import PolicyYear
from subsidies.selectors import ERR_NO_BIRTH_YEAR_POLICY

pytestmark = pytest.mark.django_db
URL = "/api/quote/"


def get(client, **params):
    r = client.get(URL, params)
    assert r.status_code == 200, r.content
    return r.json()


def test_gaoyang_newborn_spanning_two_years_shows_it_must_pay_both(client, seed_policies):
    body = get(client, county="130628", year=2024, birth_date="2023-11-15", paid_on="2024-01-20")
    assert body["benefit_start"] == "2024-01-01" and body["birth_year"] == 2023 and body["birth_year_must_pay"] is True
    assert WHY_PRIOR_BOTH.format(year=2023, next=2024) in body["notes"]
    # no 2023 policy on record: said, not guessed
    assert body["birth_year_self_pay"] is None
    assert ERR_NO_BIRTH_YEAR_POLICY.format(county="高阳县", year=2023) in body["notes"]


def test_shizhu_newborn_may_back_pay_its_birth_year_at_that_years_amount(client, seed_policies):
    admin = get_user_model().objects.create_superuser("root", password="x")
    services.policy_copy(actor=admin, policy=PolicyYear.objects.get(county__code="500240", year=2025), year=2024)
    body = get(client, county="500240", year=2025, birth_date="2024-12-01", paid_on="2025-01-20")
    assert body["benefit_start"] == "2025-01-01" and body["birth_year"] == 2024 and body["birth_year_must_pay"] is False
    assert D(body["birth_year_self_pay"]) == D("400.00")  # 个人缴费一档400元 (the 2024 copy of the 2025 figures)


def test_neixiang_2024_baby_paying_in_2025_is_quoted_as_a_late_payer(client, seed_policies):
    body = get(client, county="411325", year=2025, birth_date="2024-12-10", paid_on="2025-01-15")
    assert body["benefit_start"] == "2025-04-15" and WHY_PRIOR_YEAR_END in body["notes"] and "birth_year" not in body


def test_qinshui_late_newborn_is_refused_in_chinese(client, seed_policies):
    r = client.get(URL, {"county": "140521", "year": 2025, "birth_date": "2025-03-10", "paid_on": "2025-09-10"})
    assert r.status_code == 400 and "逾期不予办理" in r.json()["detail"]


def test_jiangnan_groups_on_the_quote(client, seed_policies):
    body = get(client, county="430682", year=2025, paid_on="2025-05-10", cover_group="released_prisoner")
    assert body["benefit_start"] == "2025-05-10" and body["benefit_reason"] == WHY_FROM_PAYMENT.format(group="刑满释放人员")
    body = get(client, county="430682", year=2025, paid_on="2025-06-20", cover_group="welfare_child", cover_group_since="2025-06-03")
    assert body["benefit_start"] == "2025-06-03" and body["benefit_reason"] == WHY_WELFARE_CHILD
    r = client.get(URL, {"county": "430682", "year": 2025, "cover_group": "astronaut"})
    assert r.status_code == 400 and "cover_group" in r.json()


@pytest.mark.parametrize("years, zero, expected", [(3, False, "0.00"), (4, False, "1000.00"), (6, False, "3000.00"), (4, True, "2000.00")])
def test_the_incentive_of_paying_this_year(client, seed_policies, years, zero, expected):
    """Shizhu 003 l.59: 对连续参加居民医保满4年的参保人员，之后每连续参保缴费1年，提高居民大病保险最高支付限额。
    对当年医保基金零报销且于次年正常参保缴费的居民医保参保人员，次年提高大病保险最高支付限额。"""
    params = {"county": "500240", "year": 2025, "continuous_years": years}
    if zero:
        params["zero_claim_last_year"] = "true"
    assert get(client, **params)["incentive_raise"] == expected


def test_gaoyang_2024_has_no_incentive(client, seed_policies):
    """004: 2024年度文件未设大病保险激励 (its fixture's step is 0)."""
    assert get(client, county="130628", year=2024, continuous_years=8)["incentive_raise"] == "0.00"


def test_the_calculator_page_shows_the_birth_year_and_the_incentive(client, seed_policies):
    page = client.get("/quote/", {"county": "130628", "year": 2024, "birth_date": "2023-11-15", "paid_on": "2024-01-20",
                                  "continuous_years": 2}).content.decode()
    assert "出生当年（2023年度）须同时缴纳" in page and 'data-field="incentive_raise">0.00 元' in page
    page = client.get("/quote/", {"county": "430682", "year": 2025, "paid_on": "2025-05-10", "cover_group": "veteran"}).content.decode()
    assert "2025年5月10日" in page and "退役军人接续当年医保关系" in page
