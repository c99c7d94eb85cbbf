from datetime import date

import pytest

from enrollment.choices import EnrollmentStatus as S
from reporting import services
from tests.factories import EnrollmentFactory
from tests.factories.reporting import ReportingPolicyFactory

DAY = date(2024, 10, 14)


@pytest.fixture
def season(regions):
    ReportingPolicyFactory(county=regions["county"])
    EnrollmentFactory.create_batch(3, person__household__village=regions["v1"], status=S.CONFIRMED, confirmed_on=date(2024, 10, 2), amount_due="400.00", paid_on=date(2024, 10, 1))
    EnrollmentFactory(person__household__village=regions["v3"], status=S.PAID, paid_on=date(2024, 10, 1), amount_due="400.00")
    services.weekly_report_publish(county=regions["county"], day=DAY)


def test_progress_same_figures_as_snapshot(client, users, regions, season):
    client.force_login(users["bureau"])
    data = client.get("/api/reports/progress/", {"region": regions["county"].code, "date": DAY.isoformat()}).json()
    assert data["source"] == "snapshot" and "每日快照" in data["as_of"]
    assert data["region"]["confirmed"] == 3 and data["region"]["collected"] == 4
    assert data["region"]["gaps"] == 0 and data["region"]["gap_households"] == 0
    assert data["region"]["money_collected"] == "1600.00"  # decimals as strings
    assert {c["name"] for c in data["children"]} == {"甲镇", "乙镇"}


def test_progress_is_scoped(client, users, regions, season):
    client.force_login(users["clerk"])
    assert client.get("/api/reports/progress/", {"region": regions["t2"].code, "date": DAY.isoformat()}).status_code == 404
    own = client.get("/api/reports/progress/", {"date": DAY.isoformat()}).json()
    assert own["region"]["code"] == regions["t1"].code


def test_progress_bad_date(client, users, season):
    client.force_login(users["bureau"])
    assert client.get("/api/reports/progress/", {"date": "yesterday"}).status_code == 400


def test_rankings(client, users, regions, season):
    client.force_login(users["leader"])
    data = client.get("/api/reports/rankings/", {"date": DAY.isoformat()}).json()
    assert [e["name"] for e in data["entries"]] == ["甲镇", "乙镇"]
    assert data["entries"][0]["rate"] is not None and "入库人数多的在前" in data["tie_break"]
    villages = client.get("/api/reports/rankings/", {"date": DAY.isoformat(), "township": regions["t1"].code}).json()
    assert [e["name"] for e in villages["entries"]][0] == "甲一村"


def test_rankings_scoped_for_clerk(client, users, regions, season):
    client.force_login(users["clerk"])
    assert client.get("/api/reports/rankings/", {"date": DAY.isoformat(), "township": regions["t2"].code}).status_code == 404
    assert client.get("/api/reports/rankings/", {"date": DAY.isoformat()}).status_code == 200


def test_rankings_none_yet(client, users, season):
    client.force_login(users["bureau"])
    assert client.get("/api/reports/rankings/", {"date": "2024-09-01"}).status_code == 404


def test_api_needs_report_view(client, users, season):
    client.force_login(users["dept"])
    assert client.get("/api/reports/progress/").status_code == 403
    client.logout()
    assert client.get("/api/reports/rankings/").status_code in (401, 403)
