"""GET /api/quote/: every seed figure, dates, errors, anonymous and throttled."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.throttling import AnonRateThrottle

from subsidies.api.views import QuoteOptionsView, QuoteView
from subsidies.benefit import (
    ERR_BIRTH_AFTER_PAID,
    ERR_BIRTH_AFTER_REGISTERED,
    ERR_BIRTH_IN_FUTURE,
    ERR_NEEDS_PAID_ON,
    ERR_PAYMENT_DAY,
    NOTE_START_AFTER_YEAR,
    WHY_EXTENSION,
    WHY_NEWBORN,
)
from subsidies.calc import NOTE_MIDYEAR_NEWBORN
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


def test_midyear_newborn_pays_individual_part(client, seed_policies):
    r = client.get(URL, {"county": "500240", "year": 2025, "tier": 1, "paid_on": "2025-07-10", "birth_date": "2025-06-20"})
    body = r.json()
    assert r.status_code == 200, body
    assert body["self_pay"] == "400.00" and NOTE_MIDYEAR_NEWBORN in body["notes"]
    assert body["benefit_start"] == "2025-06-20" and body["benefit_reason"] == WHY_NEWBORN


@pytest.mark.parametrize(
    "params, start",
    [
        ({"county": "140521", "year": 2025, "paid_on": "2025-07-28"}, "2025-10-28"),  # Qinshui after the window
        ({"county": "130628", "year": 2024, "paid_on": "2024-08-27", "birth_date": "2024-03-01"}, "2024-03-01"),  # Gaoyang newborn
    ],
)
def test_payment_days_only_in_collection_period(client, seed_policies, params, start):
    r = client.get(URL, params)
    assert r.status_code == 200, r.content
    assert r.json()["benefit_start"] == start


@pytest.mark.parametrize(
    "params, message",
    [
        ({"registered_on": "2025-03-01"}, ERR_NEEDS_PAID_ON),
        ({"registered_on": "2025-03-01", "birth_date": "1990-05-01"}, ERR_NEEDS_PAID_ON),
        ({"paid_on": "2025-03-01", "birth_date": "2025-03-05"}, ERR_BIRTH_AFTER_PAID),
        ({"registered_on": "2025-03-01", "birth_date": "2025-03-05"}, ERR_BIRTH_AFTER_REGISTERED),
    ],
)
def test_dates_refused(client, seed_policies, params, message):
    r = client.get(URL, {"county": "411325", "year": 2025, **params})
    assert r.status_code == 400 and r.json()["detail"] == message


def test_birth_in_the_future_refused(client, seed_policies):
    tomorrow = timezone.localdate() + timedelta(days=1)
    r = client.get(URL, {"county": "411325", "year": 2025, "birth_date": tomorrow.isoformat(),
                         "registered_on": (tomorrow + timedelta(days=5)).isoformat()})
    assert r.status_code == 400 and r.json()["detail"] == ERR_BIRTH_IN_FUTURE


def test_start_after_the_year_noted(client, seed_policies):
    late = client.get(URL, {"county": "411325", "year": 2025, "paid_on": "2025-11-30"}).json()
    assert late["benefit_start"] == "2026-02-28" and NOTE_START_AFTER_YEAR in late["notes"]
    early = client.get(URL, {"county": "411325", "year": 2025, "paid_on": "2025-03-31"}).json()
    assert NOTE_START_AFTER_YEAR not in early["notes"]


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
