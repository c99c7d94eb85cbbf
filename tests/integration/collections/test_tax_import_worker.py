"""A real Celery worker (Redis) previews and applies an import; redelivery changes nothing."""

import io
import time

import pytest

from collections_app.models import TaxImport
from collections_app.tax_import import progress, services
from collections_app.tax_import.tasks import run_tax_import
from core.choices import ImportStatus
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.integration.collections.test_tax_import_services import filing_rows, policy, world  # noqa: F401
from tests.unit.collections.tax_import_files import workbook_bytes


@pytest.fixture
def worker_media(settings, monkeypatch):
    """The worker subprocess must see the same MEDIA_ROOT as this test (it reads the stored file)."""
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))


@pytest.mark.celery_worker
@pytest.mark.postgres  # the worker subprocess shares the test database only on PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_worker_previews_then_applies_once(worker_media, celery_worker_process, users, regions, world):
    ti = services.tax_import_create(
        actor=users["tax"], county=regions["county"], upload=io.BytesIO(workbook_bytes(filing_rows(world))), name="f.xlsx", year=2025
    )
    q = celery_worker_process
    preview = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": False}, queue=q).get(timeout=60)
    assert preview.get("confirmed") == 6, preview
    assert TaxImport.objects.get(pk=ti.pk).status == ImportStatus.PREVIEWED
    result = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk}, queue=q).get(timeout=60)
    assert result["confirmed"] == 6
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.CONFIRMED
    # a redelivered task (acks_late) finds the import applied and does nothing
    again = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk}, queue=q).get(timeout=60)
    assert again == result
    ti.file.delete(save=False)


def big_filing(world, rows: int) -> bytes:
    """One payment of the world's pending enrollment and ``rows`` of persons the county does not
    know (each a problem row): long enough to kill the worker in the middle of it."""
    from datetime import date, timedelta

    from core import idcard
    from tests.unit.collections.tax_import_files import csv_bytes

    filler = [
        [18 + i, "某", idcard.make("411325", date(1960, 1, 1) + timedelta(days=i // 1000), i % 1000), 1, 400, "2024-10-05", f"X{i}", "微信", "甲一村"]
        for i in range(rows)
    ]
    return csv_bytes(filing_rows(world)[:1] + filler)  # the first: the pending enrollment's payment


def wait_for(what, timeout: float, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"waited {timeout} s in vain")


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_import_shows_interrupted_and_its_user_resumes_it_once(worker_media, users, regions, world, settings):
    """kill -9 of the worker in the middle of an apply: within seconds of the threshold the import
    is 中断 (API), nothing of it was written; its user resumes it; a restarted worker applies it
    once, and the killed run's message, restored by Redis after the visibility timeout, is
    dropped as stale. (Threshold 3 s and visibility timeout 5 s here; 120 s and 1 h in production.)"""
    import signal
    import uuid

    from rest_framework.test import APIClient

    from config.celery import app
    from tests.conftest import start_celery_worker, stop_celery_worker

    settings.CANBAO_IMPORT_INTERRUPTED_AFTER = 3
    env = {"CANBAO_IMPORT_INTERRUPTED_AFTER": "3", "CELERY_VISIBILITY_TIMEOUT": "5"}
    queue = f"test-{uuid.uuid4().hex[:8]}"
    old_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue  # where the API queues the resume
    ti = services.tax_import_create(
        actor=users["tax"], county=regions["county"], upload=io.BytesIO(big_filing(world, 60_000)), name="f.csv", year=2025
    )
    workers = [start_celery_worker(queue, **env)]
    try:
        preview = run_tax_import.apply_async(args=[ti.pk], kwargs={"run": ti.run}, queue=queue).get(timeout=300)
        assert (preview["confirmed"], preview["unknown_person"]) == (1, 60_000), preview
        assert services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)
        killed_run = ti.run
        sent = time.monotonic()
        killed = run_tax_import.apply_async(
            args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk, "run": killed_run}, queue=queue
        )
        wait_for(lambda: (progress.get_progress(ti.pk) or {}).get("message", "").startswith("已处理"), timeout=120)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        died = time.monotonic()
        assert TaxImport.objects.get(pk=ti.pk).status == ImportStatus.APPLYING, "killed too late: the filing is too short"

        c = APIClient()
        c.force_authenticate(users["tax"])
        shown = wait_for(lambda: (body := c.get(f"/api/imports/{ti.pk}/").json())["interrupted"] and body, timeout=30, step=0.2)
        interrupted_after = time.monotonic() - died
        assert interrupted_after < 3 + 2, interrupted_after  # the threshold, and at most a beat
        assert shown["status"] == "applying" and shown["status_display"] == progress.INTERRUPTED_LABEL
        assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING  # rolled back
        assert TaxImport.objects.get(pk=ti.pk).attempts == 1

        # The database notices the dead connection (and frees the row) within moments of the kill.
        resumed = wait_for(lambda: (r := c.post(f"/api/imports/{ti.pk}/resume/")).status_code == 202 and r, timeout=30, step=0.5)
        assert resumed.json()["status"] == "applying"
        time.sleep(max(0.0, sent + 5 + 1 - time.monotonic()))  # the killed run's message is past the visibility timeout
        workers.append(start_celery_worker(queue, **env))  # restarted: it restores that message too

        assert killed.get(timeout=120) == {"stale": killed_run}
        done = wait_for(lambda: (t := TaxImport.objects.get(pk=ti.pk)).status == ImportStatus.APPLIED and t, timeout=300, step=0.2)
        assert done.result["confirmed"] == 1 and done.attempts == 0
        assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.CONFIRMED
        assert Enrollment.history.filter(tax_voucher="V001", history_type="~").count() == 1  # applied once
    finally:
        app.conf.task_default_queue = old_queue
        for proc in workers:
            if proc.poll() is None:
                stop_celery_worker(proc)
    ti.file.delete(save=False)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the prefork pool's children)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_that_kills_its_pool_process_fails_after_one_retry(worker_media, users, regions, world):
    """The prefork pool's child dies in the middle of the apply, twice (as a hostile file makes it
    die): the parent requeues the message at once each time (reject on worker lost); the third
    delivery runs nothing and leaves a failed import saying why — no loop."""
    import os
    import signal
    import uuid

    from tests.conftest import start_celery_worker, stop_celery_worker

    queue = f"test-{uuid.uuid4().hex[:8]}"
    ti = services.tax_import_create(
        actor=users["tax"], county=regions["county"], upload=io.BytesIO(big_filing(world, 60_000)), name="f.csv", year=2025
    )
    worker = start_celery_worker(queue, pool="prefork")
    try:
        run_tax_import.apply_async(args=[ti.pk], kwargs={"run": ti.run}, queue=queue).get(timeout=300)
        assert services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)
        result = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk, "run": ti.run}, queue=queue)
        for delivery in (1, 2):
            wait_for(
                lambda: TaxImport.objects.get(pk=ti.pk).attempts == delivery
                and (progress.get_progress(ti.pk) or {}).get("message", "").startswith("已处理"),
                timeout=120,
            )
            (child,) = children(worker.pid)
            progress.set_progress(ti.pk, 0, "killed")  # the next delivery's progress is its own
            os.kill(child, signal.SIGKILL)
        message = services.ERR_CRASHED.format(crashes=2, id=ti.pk)
        assert result.get(timeout=120) == {"error": message}
        ti.refresh_from_db()
        assert ti.status == ImportStatus.FAILED and ti.error == message
        assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING
        assert worker.poll() is None  # the worker itself lives on
    finally:
        stop_celery_worker(worker)
    ti.file.delete(save=False)
