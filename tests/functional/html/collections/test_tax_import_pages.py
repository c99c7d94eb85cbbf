"""Browser flow: upload → preview → confirm → history → problem rows xlsx (Celery eager)."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.models import TaxImport
from collections_app.tax_import import matching, progress, views
from core.choices import ImportStatus, Role
from core.models import AuditEvent
from core.spreadsheets import ERR_NOT_SPREADSHEET
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories import CountyFactory, TownshipFactory, UserFactory
from tests.integration.collections.test_tax_import_services import filing_rows, policy, world  # noqa: F401
from tests.unit.collections.tax_import_files import workbook_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def xlsx(world):
    return SimpleUploadedFile("缴费明细.xlsx", workbook_bytes(filing_rows(world)), content_type="application/octet-stream")


def test_upload_preview_confirm_history_download(client, users, world):
    client.force_login(users["tax"])
    resp = client.post(reverse("collections:taximport_list"), {"file": xlsx(world), "year": 2025})
    ti = TaxImport.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("collections:taximport_detail", args=[ti.pk])
    assert ti.status == ImportStatus.PREVIEWED and ti.uploaded_by == users["tax"]
    page = client.get(resp["Location"]).content.decode()
    assert "确认导入" in page and "金额与应缴不符" in page and matching.MSG_UNKNOWN in page
    assert world["cash"].person.id_number in page  # the tax office sees full IDs (audited)
    assert AuditEvent.objects.filter(action="view_full_id", actor=users["tax"]).exists()
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING

    resp = client.post(reverse("collections:taximport_confirm", args=[ti.pk]), follow=True)
    ti.refresh_from_db()
    assert ti.status == ImportStatus.APPLIED and ti.applied_by == users["tax"]
    assert views.MSG_APPLIED.format(confirmed=6) in resp.content.decode()
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.CONFIRMED

    shown = client.get(reverse("collections:taximport_progress", args=[ti.pk])).json()
    assert shown["done"] is True and shown["percent"] == 100

    history = client.get(reverse("collections:taximport_list")).content.decode()
    assert "缴费明细.xlsx" in history and "已导入" in history

    resp = client.get(reverse("collections:taximport_problems", args=[ti.pk]))
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "结果", "原因") and len(rows) == 1 + 9
    assert any(r[2] == matching.MSG_UNKNOWN for r in rows[1:])
    assert AuditEvent.objects.filter(action="export", object_id=str(ti.pk)).exists()

    # confirming again changes nothing
    client.post(reverse("collections:taximport_confirm", args=[ti.pk]))
    assert TaxImport.objects.get().result == ti.result


def test_bad_file_error_shown_next_to_field(client, users):
    client.force_login(users["tax"])
    bad = SimpleUploadedFile("x.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(300))
    resp = client.post(reverse("collections:taximport_list"), {"file": bad})
    assert resp.status_code == 200 and ERR_NOT_SPREADSHEET in resp.content.decode()
    assert TaxImport.objects.count() == 0


def test_roles_and_scope(client, users, world):
    client.force_login(users["tax"])
    client.post(reverse("collections:taximport_list"), {"file": xlsx(world)})
    ti = TaxImport.objects.get()
    client.force_login(users["bureau"])
    assert client.get(reverse("collections:taximport_detail", args=[ti.pk])).status_code == 200
    assert "上传并预检" not in client.get(reverse("collections:taximport_list")).content.decode()
    assert client.post(reverse("collections:taximport_list"), {"file": xlsx(world)}).status_code == 403
    assert client.post(reverse("collections:taximport_confirm", args=[ti.pk])).status_code == 403
    client.force_login(users["clerk"])
    assert client.get(reverse("collections:taximport_list")).status_code == 403
    stranger = UserFactory(role=Role.TAX, region=CountyFactory(code="500242", name="外县"))
    client.force_login(stranger)
    for name in ("taximport_detail", "taximport_progress", "taximport_problems"):
        assert client.get(reverse(f"collections:{name}", args=[ti.pk])).status_code == 404
    assert client.post(reverse("collections:taximport_confirm", args=[ti.pk])).status_code == 404
    assert "#%d" % ti.pk not in client.get(reverse("collections:taximport_list")).content.decode()


def test_list_query_count(client, users, world, django_assert_max_num_queries):
    client.force_login(users["tax"])
    for _ in range(3):
        client.post(reverse("collections:taximport_list"), {"file": xlsx(world)})
    with django_assert_max_num_queries(12):
        assert client.get(reverse("collections:taximport_list")).status_code == 200


def applied_import(client, users, world):
    client.force_login(users["tax"])
    client.post(reverse("collections:taximport_list"), {"file": xlsx(world), "year": 2025})
    ti = TaxImport.objects.get()
    client.post(reverse("collections:taximport_confirm", args=[ti.pk]))
    ti.refresh_from_db()
    assert ti.status == ImportStatus.APPLIED
    return ti


def test_township_sees_its_own_problem_rows_and_downloads_them(client, users, world):
    ti = applied_import(client, users, world)
    client.force_login(users["clerk"])  # 甲镇: its villages' persons, and the unknown person of 参保地 甲二村
    page = client.get(reverse("collections:taximport_township"))
    assert page.status_code == 200
    body = page.content.decode()
    assert matching.MSG_UNKNOWN in body and world["unknown_id"] in body and world["cash"].person.id_number in body
    assert matching.MSG_OTHER_COUNTY not in body  # 乙一村 belongs to 乙镇
    assert "#%d" % ti.pk in body
    resp = client.get(reverse("collections:taximport_township_problems"))
    assert resp.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("导入批次", "行号", "结果", "原因")
    assert len(rows) == 1 + 8 and {r[0] for r in rows[1:]} == {f"#{ti.pk}"}
    assert not any(r[3] == matching.MSG_OTHER_COUNTY for r in rows[1:])
    assert AuditEvent.objects.filter(action="export", actor=users["clerk"], detail__export="tax_import_township_problems").exists()
    only = client.get(reverse("collections:taximport_township_problems"), {"outcome": "unknown_person"})
    rows = list(openpyxl.load_workbook(io.BytesIO(only.content)).active.iter_rows(values_only=True))
    assert [r[3] for r in rows[1:]] == [matching.MSG_UNKNOWN]

    client.force_login(users["clerk2"])  # 乙镇: only the row of 参保地 乙一村
    body = client.get(reverse("collections:taximport_township")).content.decode()
    assert matching.MSG_OTHER_COUNTY in body and matching.MSG_UNKNOWN not in body
    assert world["cash"].person.id_number not in body
    rows = list(openpyxl.load_workbook(io.BytesIO(client.get(reverse("collections:taximport_township_problems")).content)).active.iter_rows(values_only=True))
    assert len(rows) == 2


def test_township_page_scope(client, users, world):
    applied_import(client, users, world)
    stranger = UserFactory(role=Role.TOWNSHIP, region=TownshipFactory(parent=CountyFactory(code="500244", name="外县"), name="甲镇"))
    client.force_login(stranger)  # a township of the same name in another county
    body = client.get(reverse("collections:taximport_township")).content.decode()
    assert matching.MSG_UNKNOWN not in body and world["cash"].person.id_number not in body
    rows = list(openpyxl.load_workbook(io.BytesIO(client.get(reverse("collections:taximport_township_problems")).content)).active.iter_rows(values_only=True))
    assert len(rows) == 1
    for name in ("collector", "nobody"):
        client.force_login(users[name])
        assert client.get(reverse("collections:taximport_township")).status_code == 403, name
        assert client.get(reverse("collections:taximport_township_problems")).status_code == 403, name
    for name in ("tax", "bureau"):  # the county's list: only the rows no township owns
        client.force_login(users[name])
        page = client.get(reverse("collections:taximport_township"))
        assert page.status_code == 200 and "未归属乡镇" in page.content.decode(), name
        assert world["cash"].person.id_number not in page.content.decode()


def test_township_does_not_see_previews(client, users, world):
    client.force_login(users["tax"])
    client.post(reverse("collections:taximport_list"), {"file": xlsx(world), "year": 2025})
    assert TaxImport.objects.get().status == ImportStatus.PREVIEWED
    client.force_login(users["clerk"])
    assert matching.MSG_UNKNOWN not in client.get(reverse("collections:taximport_township")).content.decode()


@pytest.mark.parametrize("status, resumed", [(ImportStatus.PREVIEWING, ImportStatus.PREVIEWED), (ImportStatus.APPLYING, ImportStatus.APPLIED)])
def test_interrupted_import_shows_why_and_is_resumed_from_its_page(client, users, world, status, resumed):
    import time

    from django.core.cache import cache

    from collections_app.tax_import import services

    client.force_login(users["tax"])
    client.post(reverse("collections:taximport_list"), {"file": xlsx(world), "year": 2025})
    ti = TaxImport.objects.get()
    TaxImport.objects.filter(pk=ti.pk).update(status=status)  # its worker was killed
    ti.refresh_from_db()
    progress.set_progress(ti.pk, 32, "已处理 …")
    assert client.get(reverse("collections:taximport_progress", args=[ti.pk])).json()["interrupted"] is False
    resume = reverse("collections:taximport_resume", args=[ti.pk])
    assert services.ERR_NOT_INTERRUPTED in client.post(resume, follow=True).content.decode()  # alive: not resumed
    cache.set(progress.TRACKER.beat_key(ti.pk), time.time() - progress.interrupted_after() - 1)
    message = progress.interrupted_message(ti)
    shown = client.get(reverse("collections:taximport_progress", args=[ti.pk])).json()
    assert shown["done"] is True and shown["interrupted"] is True and shown["message"] == message
    page = client.get(reverse("collections:taximport_detail", args=[ti.pk])).content.decode()
    assert message in page and progress.INTERRUPTED_LABEL in page and resume in page
    assert progress.INTERRUPTED_LABEL in client.get(reverse("collections:taximport_list")).content.decode()
    client.force_login(users["bureau"])  # reads imports, may not run them
    assert resume not in client.get(reverse("collections:taximport_detail", args=[ti.pk])).content.decode()
    assert client.post(resume).status_code == 403
    client.force_login(users["tax"])
    resp = client.post(resume, follow=True)
    ti.refresh_from_db()
    assert ti.status == resumed
    expected = views.MSG_APPLIED.format(confirmed=6) if resumed == ImportStatus.APPLIED else views.MSG_PREVIEWED
    assert expected in resp.content.decode()


def test_the_banner_after_a_finished_preview_does_not_say_it_is_still_previewing(client, users, world):
    from collections_app.tax_import import views

    client.force_login(users["tax"])
    page = client.post(reverse("collections:taximport_list"), {"file": xlsx(world), "year": 2025}, follow=True)
    said = [str(m) for m in page.context["messages"]]
    assert TaxImport.objects.get().status == ImportStatus.PREVIEWED
    assert said == [views.MSG_PREVIEWED] and "正在预检" not in page.content.decode()
