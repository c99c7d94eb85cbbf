import pytest
from django.urls import reverse


def test_login_page_speaks_chinese(client, db):
    resp = client.get(reverse("login"))
    assert resp.status_code == 200
    assert "登录" in resp.content.decode()
    assert "cdn" not in resp.content.decode().lower()


def test_home_requires_login(client, db):
    resp = client.get(reverse("home"))
    assert resp.status_code == 302 and reverse("login") in resp["Location"]


@pytest.mark.parametrize("role", ["bureau", "tax", "leader", "dept", "clerk", "collector"])
def test_each_role_has_a_landing_page(client, users, role):
    client.force_login(users[role])
    resp = client.get(reverse("home"))
    assert resp.status_code == 200
    assert users[role].get_role_display() in resp.content.decode()


def test_healthz_reports_database(client, db):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["database"] == "ok"


def test_csp_forbids_inline_script(client, db):
    resp = client.get(reverse("login"))
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_openapi_schema_and_docs_work_offline(admin_client):
    schema = admin_client.get("/api/schema/")
    assert schema.status_code == 200
    docs = admin_client.get("/api/docs/")
    assert docs.status_code == 200
    assert "http" not in docs.content.decode().split("<script")[1].split(">")[0] or "static" in docs.content.decode()
