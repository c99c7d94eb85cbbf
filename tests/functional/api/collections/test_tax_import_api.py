"""/api/imports/: upload (preview), rows, confirm, scope."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import TaxImport
from collections_app.tax_import import progress, tasks
from core.choices import Role
from core.spreadsheets import ERR_EMPTY_FILE
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories import CountyFactory, UserFactory
from tests.integration.collections.test_tax_import_services import EXPECTED, filing_rows, policy, world  # noqa: F401
from tests.unit.collections.tax_import_files import workbook_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_upload_preview_rows_confirm(users, world):
    c = api(users["tax"])
    f = SimpleUploadedFile("filing.xlsx", workbook_bytes(filing_rows(world)))
    resp = c.post("/api/imports/", {"file": f, "year": 2025}, format="multipart")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "previewed"
    assert {k: body["summary"][k] for k in EXPECTED} == EXPECTED
    rows = c.get(f"/api/imports/{body['id']}/rows/?outcome=duplicate").json()
    assert rows["count"] == 4 and all(r["refund_candidate"] for r in rows["results"])
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING
    resp = c.post(f"/api/imports/{body['id']}/confirm/")
    assert resp.status_code == 200 and resp.json()["status"] == "applied"
    assert resp.json()["result"]["confirmed"] == 6
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.CONFIRMED
    again = c.post(f"/api/imports/{body['id']}/confirm/")
    assert again.status_code == 200 and again.json()["result"] == resp.json()["result"]
    assert c.get(f"/api/imports/{body['id']}/progress/").json()["done"] is True
    assert [i["id"] for i in c.get("/api/imports/").json()["results"]] == [body["id"]]


def test_bad_upload_is_400_in_chinese(users):
    resp = api(users["tax"]).post("/api/imports/", {"file": SimpleUploadedFile("a.xlsx", b"")}, format="multipart")
    assert resp.status_code == 400
    assert resp.json()["file"] in ([ERR_EMPTY_FILE], ["提交的是空文件。"])  # DRF itself refuses empty uploads


def test_scope_and_permissions(users, world):
    api(users["tax"]).post("/api/imports/", {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(filing_rows(world)))}, format="multipart")
    ti = TaxImport.objects.get()
    assert api(users["clerk"]).get("/api/imports/").status_code == 403
    assert api(users["bureau"]).get(f"/api/imports/{ti.pk}/").status_code == 200
    assert api(users["bureau"]).post(f"/api/imports/{ti.pk}/confirm/").status_code == 403
    stranger = UserFactory(role=Role.TAX, region=CountyFactory(code="500243", name="外县"))
    assert api(stranger).get(f"/api/imports/{ti.pk}/").status_code == 404
    assert api(stranger).post(f"/api/imports/{ti.pk}/confirm/").status_code == 404
    assert api(stranger).get("/api/imports/").json()["count"] == 0
    assert api(users["nobody"]).get("/api/imports/").status_code == 403


@pytest.mark.parametrize("status, resumed", [("previewing", "previewed"), ("applying", "applied")])
def test_interrupted_import_is_shown_and_resumed(users, world, status, resumed):
    import time

    from django.core.cache import cache

    from collections_app.tax_import import services

    c = api(users["tax"])
    body = c.post("/api/imports/", {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(filing_rows(world))), "year": 2025}, format="multipart").json()
    TaxImport.objects.filter(pk=body["id"]).update(status=status)  # the worker died
    progress.set_progress(body["id"], 30, "…")
    if status == "applying":
        running = c.post(f"/api/imports/{body['id']}/confirm/")
        assert running.status_code == 202 and running.json()["status"] == "applying"  # alive: nothing queued again
    refused = c.post(f"/api/imports/{body['id']}/resume/")
    assert refused.status_code == 400 and refused.json() == {"status": [services.ERR_NOT_INTERRUPTED]}
    assert c.get(f"/api/imports/{body['id']}/progress/").json()["interrupted"] is False
    cache.set(progress.TRACKER.beat_key(body["id"]), time.time() - progress.interrupted_after() - 1)
    message = progress.interrupted_message(TaxImport.objects.get(pk=body["id"]))
    shown = c.get(f"/api/imports/{body['id']}/progress/").json()
    assert shown["interrupted"] is True and shown["done"] is True and shown["message"] == message
    shown = c.get(f"/api/imports/{body['id']}/").json()
    assert (shown["status"], shown["status_display"], shown["interrupted"], shown["interrupted_message"]) == (
        status, progress.INTERRUPTED_LABEL, True, message
    )
    assert c.get("/api/imports/").json()["results"][0]["interrupted"] is True
    assert api(users["bureau"]).post(f"/api/imports/{body['id']}/resume/").status_code == 403
    resp = c.post(f"/api/imports/{body['id']}/resume/")
    assert resp.status_code == 200 and resp.json()["status"] == resumed and resp.json()["interrupted"] is False
    again = c.post(f"/api/imports/{body['id']}/resume/")
    assert again.status_code == 400


def test_a_confirm_the_queue_refuses_goes_back_to_its_preview_on_both_paths(users, world, client, monkeypatch):
    """Broker down: the API answers 503 with the pages' message, the page says it, and in both
    the import is back to 已预检 (not left 正在导入 for a run that will never start)."""
    c = api(users["tax"])
    body = c.post("/api/imports/", {"file": SimpleUploadedFile("f.xlsx", workbook_bytes(filing_rows(world))), "year": 2025},
                  format="multipart").json()

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_tax_import, "delay", down)
    resp = c.post(f"/api/imports/{body['id']}/confirm/")
    assert resp.status_code == 503 and resp.json()["detail"] == tasks.ERR_QUEUE
    assert TaxImport.objects.get(pk=body["id"]).status == "previewed"
    client.force_login(users["tax"])
    page = client.post(reverse("collections:taximport_confirm", args=[body["id"]]), follow=True).content.decode()
    assert page.count(tasks.ERR_QUEUE) == 1
    assert TaxImport.objects.get(pk=body["id"]).status == "previewed"
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING
