"""GET /api/quote/: every seed figure, dates, errors, anonymous and throttled."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.throttling import AnonRateThrottle

from subsidies.api.views import QuoteOptionsView, QuoteView
from subsidies.benefit import ERR_PAYMENT_DAY, WHY_EXTENSION, WHY_NEWBORN
from tests.integration.subsidies.seed_figures import BY_COUNTY, mismatches

pytestmark = pytest.mark.django_db
URL = "/api/quote/"


@pytest.mark.parametrize("county", BY_COUNTY)
def test_every_seed_figure(client, seed_policies, county):
    def compute(case):
        code, year, tier, student, name, *_ = case
        params = {"county": code, "year": year, "tier": tier}
        if student:
            params["student"] = "true"
        if name:
            params["categories"] = name
        r = client.get(URL, params)
        assert r.status_code == 200, r.content
        body = r.json()
        assert isinstance(body["self_pay"], str)  # decimals as strings
        if name:
            assert body["category"]["name"] == name
        return D(body["standard"]), D(body["subsidy"]), D(body["self_pay"])

    assert mismatches(BY_COUNTY[county], compute) == []


def test_url_name():
    assert reverse("quote") == URL


def test_anonymous_allowed_and_throttled():
    assert QuoteView.permission_classes == [AllowAny]
    assert AnonRateThrottle in QuoteView.throttle_classes
    assert AnonRateThrottle in QuoteOptionsView.throttle_classes


def test_categories_by_code_and_name_best_one(client, seed_policies):
    r = client.get(URL, {"county": "500240", "year": 2025, "tier": 1, "categories": "03,城乡低保对象，10"})
    body = r.json()
    assert body["category"] == {"code": "10", "name": "特困人员"} and body["self_pay"] == "0.00"


def test_benefit_start_extension(client, seed_policies):
    r = client.get(URL, {"county": "500240", "year": 2025, "paid_on": "2025-02-28"})
    body = r.json()
    assert body["benefit_start"] == "2025-03-01" and body["benefit_reason"] == WHY_EXTENSION


def test_benefit_start_newborn(client, seed_policies):
    r = client.get(URL, {"county": "411325", "year": 2025, "birth_date": "2025-03-03", "registered_on": "2025-05-01"})
    assert r.json()["benefit_start"] == "2025-03-03" and r.json()["benefit_reason"] == WHY_NEWBORN


def test_benefit_start_waiting(client, seed_policies):
    r = client.get(URL, {"county": "411325", "year": 2025, "paid_on": "2025-03-31", "break_years": 3, "backpaid_years": 1})
    assert r.json()["benefit_start"] == "2025-07-31" and r.json()["waiting_months"] == 4


def test_midyear_quote(client, seed_policies):
    r = client.get(URL, {"county": "500240", "year": 2025, "tier": 1, "paid_on": "2025-07-01"})
    assert r.json()["self_pay"] == "1070.00"


def test_closed_payment_day(client, seed_policies):
    r = client.get(URL, {"county": "140521", "year": 2025, "paid_on": "2024-11-26"})
    assert r.status_code == 400 and r.json()["detail"] == ERR_PAYMENT_DAY.format(first=1, last=25)


@pytest.mark.parametrize(
    "params, status",
    [
        ({"county": "999999", "year": 2025}, 404),
        ({"county": "411325", "year": 2031}, 404),
        ({"county": "411325", "year": 2025, "tier": 2}, 404),
        ({"county": "411325", "year": 2025, "categories": "乱写"}, 404),
        ({"county": "411325"}, 400),
        ({"county": "411325", "year": "abc"}, 400),
        ({"county": "411325", "year": 2025, "paid_on": "2025-02-30"}, 400),
        ({"county": "411325", "year": 2025, "tier": 0}, 400),
    ],
)
def test_errors(client, seed_policies, params, status):
    r = client.get(URL, params)
    assert r.status_code == status
    assert r.json()


def test_options_public(client, seed_policies):
    r = client.get("/api/quote/options/")
    assert r.status_code == 200
    sz = next(p for p in r.json() if p["county"] == "500240")
    assert len(sz["categories"]) == 15 and [t["standard"] for t in sz["tiers"]] == ["400.00", "775.00"]


def test_anonymous_calls_are_throttled(client, seed_policies, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "1000/min"})
    codes = [client.get(URL, {"county": "411325", "year": 2025}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
