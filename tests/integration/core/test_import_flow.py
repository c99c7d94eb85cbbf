"""The one import flow (core.imports.flow) with the roster as its importer: statuses, one audit
event, a refusal that writes nothing, a second confirm that does nothing, scoping and the
problem-row download."""

import io
import time

import openpyxl
import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.choices import ImportStatus
from core.imports import flow, progress, tasks
from core.imports.importers import ERROR
from core.models import AuditEvent, ImportRun
from core.spreadsheets import ERR_TOO_MANY_ROWS, UploadError
from enrollment.models import Household, Person
from tests.factories import PersonFactory, make_id

YEAR = 2026
HEADER = ["户号", "住址", "姓名", "身份证号码", "与户主关系", "联系电话", "本年度参保", "原因说明"]


def upload(rows, name="roster.xlsx"):
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def good_rows():
    return [["0001", "", "赵一", make_id(), "户主", "", "参保", ""], ["0001", "", "赵二", make_id(), "配偶", "", "参保", ""]]


def previewed(actor, village, rows):
    run = flow.import_upload(actor=actor, kind="roster", region=village, year=YEAR, upload=upload(rows))
    assert run.status == ImportStatus.UPLOADED
    return flow.import_preview(actor=actor, run=run)


def test_preview_writes_nothing_and_confirm_writes_once(users, regions):
    collector = users["collector"]
    run = previewed(collector, regions["v1"], good_rows())
    assert run.status == ImportStatus.PREVIEWED and run.counts == {"new": 2, "update": 0, "moved": 0}
    assert flow.confirmable(run) == 2 and not Person.objects.exists()
    assert flow.import_confirm(actor=collector, run=run)
    assert not flow.import_confirm(actor=collector, run=run)  # taken: a second click does nothing
    run = flow.import_apply(actor=collector, run=run)
    assert run.status == ImportStatus.APPLIED and run.result == {"new": 2, "update": 0, "moved": 0}
    assert run.applied_by == collector and Household.objects.get().members.count() == 2
    again = flow.import_apply(actor=collector, run=run)  # a late redelivery of the task
    assert again.status == ImportStatus.APPLIED and Person.objects.count() == 2
    event = AuditEvent.objects.get(action="import")
    assert event.detail["what"] == "roster" and event.detail["new"] == 2 and event.object_id == str(run.pk)


def test_a_file_with_an_error_row_cannot_be_confirmed(users, regions):
    rows = good_rows()
    rows[1][3] = rows[1][3][:17] + ("0" if rows[1][3][17] != "0" else "1")  # a wrong check digit
    run = previewed(users["collector"], regions["v1"], rows)
    assert run.counts[ERROR] == 1 and [line for line, _ in run.problems] == [3]
    assert flow.confirmable(run) == 0 and not flow.import_confirm(actor=users["collector"], run=run)
    assert not Person.objects.exists()


def test_rows_changed_after_the_preview_are_refused_and_nothing_is_written(users, regions):
    rows = good_rows()
    run = previewed(users["collector"], regions["v1"], rows)
    PersonFactory(household__village=regions["v3"], id_number=rows[0][3])  # registered elsewhere meanwhile
    before = Person.objects.count()
    assert flow.import_confirm(actor=users["collector"], run=run)
    run = flow.import_apply(actor=users["collector"], run=run)
    assert run.status == ImportStatus.REFUSED and run.error == flow.ERR_HAS_ERRORS
    assert 2 in [line for line, _ in run.problems]
    assert Person.objects.count() == before and not AuditEvent.objects.filter(action="import").exists()


def test_a_file_refused_at_the_door_is_not_stored(users, regions):
    with pytest.raises(UploadError):
        flow.import_upload(actor=users["collector"], kind="roster", region=regions["v1"], year=YEAR,
                           upload=SimpleUploadedFile("x.xlsx", b"\x00\x01 not a workbook"))
    assert not ImportRun.objects.exists()


def test_a_file_the_importer_refuses_fails_with_its_chinese_message(users, regions, settings):
    settings.CANBAO_MAX_IMPORT_ROWS = 1
    run = previewed(users["collector"], regions["v1"], good_rows())
    assert run.status == ImportStatus.FAILED and run.error == ERR_TOO_MANY_ROWS.format(limit=1)  # core.intake.data_rows
    assert flow.confirmable(run) == 0 and not Person.objects.exists()


def test_cancel_keeps_the_run_and_writes_nothing(users, regions):
    run = previewed(users["collector"], regions["v1"], good_rows())
    flow.import_cancel(actor=users["collector"], run=run)
    assert run.status == ImportStatus.CANCELLED and not flow.import_confirm(actor=users["collector"], run=run)
    with pytest.raises(Exception, match="不能放弃"):
        flow.import_cancel(actor=users["collector"], run=run)
    assert ImportRun.objects.count() == 1 and not Person.objects.exists()


def test_a_village_outside_the_actor_is_refused(users, regions):
    with pytest.raises(PermissionDenied):
        flow.import_upload(actor=users["collector"], kind="roster", region=regions["v2"], year=YEAR, upload=upload(good_rows()))
    with pytest.raises(PermissionDenied):
        flow.import_upload(actor=users["leader"], kind="roster", region=regions["v1"], year=YEAR, upload=upload(good_rows()))


def test_runs_are_seen_in_their_region_and_by_their_importers_users(users, regions):
    run = previewed(users["collector"], regions["v1"], good_rows())
    visible = {who for who in users if ImportRun.objects.visible_to(users[who]).filter(pk=run.pk).exists()}
    assert "collector" in visible and "clerk" in visible  # the village and its township
    assert "leader" not in visible and "dept" not in visible  # they may not import rosters


def test_a_run_whose_worker_died_twice_is_given_up(users, regions):
    run = flow.import_upload(actor=users["collector"], kind="roster", region=regions["v1"], year=YEAR, upload=upload(good_rows()))
    tasks.run_import.give_up("t", (run.pk, "preview", users["collector"].pk), {}, crashes=2)
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.error == tasks.ERR_GIVEN_UP


def test_the_problem_rows_download_masks_ids_for_a_collector(client, users, regions):
    rows = good_rows()
    rows[1][3] = rows[1][3][:17] + ("0" if rows[1][3][17] != "0" else "1")
    rows.append(["0001", "", "赵三", rows[0][3], "子女", "", "参保", ""])  # the same person twice
    run = previewed(users["collector"], regions["v1"], rows)
    client.force_login(users["collector"])
    resp = client.get(reverse("core:import_run_problems", args=[run.pk]))
    ws = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    assert cells[0][:3] == ["行号", "结果", "原因"] and len(cells) == 1 + len(run.rows)
    assert all(rows[0][3] not in str(c) for r in cells for c in r)
    assert AuditEvent.objects.filter(action="export").exists()


def test_an_unexpected_error_in_the_apply_writes_nothing_and_says_so(users, regions, monkeypatch):
    from enrollment import importers

    PersonFactory(household__village=regions["v1"], name="原名")
    run = previewed(users["collector"], regions["v1"], good_rows())
    assert flow.import_confirm(actor=users["collector"], run=run)

    def broken(self, run, *, actor, progress):
        Person.objects.update(name="改坏了")
        raise RuntimeError("database went away")

    monkeypatch.setattr(importers.RosterImporter, "apply", broken)
    run = flow.import_apply(actor=users["collector"], run=run)
    assert run.status == ImportStatus.FAILED and run.error == flow.ERR_APPLY_FAILED
    assert list(Person.objects.values_list("name", flat=True)) == ["原名"] and not AuditEvent.objects.filter(action="import").exists()


def silence(run, seconds):
    """The run's worker last beat ``seconds`` ago."""
    cache.set(progress.RUNS.beat_key(run.pk), time.time() - seconds)


def test_an_apply_whose_worker_went_silent_is_interrupted_and_can_be_given_up(client, users, regions):
    collector = users["collector"]
    run = previewed(collector, regions["v1"], good_rows())
    assert flow.import_confirm(actor=collector, run=run)
    run.refresh_from_db()
    silence(run, progress.interrupted_after() - 5)  # a live apply beats: not interrupted, not cancellable
    assert not flow.interrupted(run)
    with pytest.raises(UploadError, match="不能放弃"):
        flow.import_cancel(actor=collector, run=run)
    silence(run, progress.interrupted_after() + 1)  # its worker is gone (the transaction with it)
    assert flow.interrupted(run)
    client.force_login(collector)
    page = client.get(reverse("core:import_run", args=[run.pk])).content.decode()
    assert 'data-status="interrupted">中断<' in page and "请点“放弃”后重新上传" in page
    assert "http-equiv=\"refresh\"" not in page  # nothing runs: the page stops polling
    body = client.get(f"/api/import-runs/{run.pk}/").json()
    assert body["interrupted"] is True and body["status_display"] == "中断" and body["status"] == "applying"
    flow.import_cancel(actor=collector, run=run)
    assert run.status == ImportStatus.CANCELLED and not Person.objects.exists()


def test_queueing_a_confirmed_run_beats_so_an_old_preview_does_not_look_interrupted(users, regions, monkeypatch):
    collector = users["collector"]
    run = previewed(collector, regions["v1"], good_rows())
    silence(run, progress.interrupted_after() + 60)  # previewed long ago
    assert flow.import_confirm(actor=collector, run=run)
    monkeypatch.setattr(tasks.run_import, "delay", lambda *a, **k: None)  # a worker has not taken it yet
    assert tasks.queue(run, actor=collector, phase="apply")
    assert run.status == ImportStatus.APPLYING and not flow.interrupted(run)
