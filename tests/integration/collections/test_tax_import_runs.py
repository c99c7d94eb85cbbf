"""Runs of a tax import: a file that kills its worker is given up after one retry; a run whose
worker vanished is shown interrupted (both phases) and can be resumed, once, safely."""

import threading
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from collections_app.models import TaxImport
from collections_app.tax_import import progress, readers, run, services
from collections_app.tax_import.tasks import run_tax_import
from core.choices import ImportStatus, Role
from core.models import AuditEvent
from core.task_guard import MAX_DELIVERIES
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories import UserFactory
from tests.integration.collections.test_tax_import_services import filing_rows, policy, upload, world  # noqa: F401
from tests.unit.collections.tax_import_files import workbook_bytes

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """A delivery whose worker process died, in-process: no handler sees it, nothing is committed
    by its transaction, the import's status and its count of deliveries stay behind."""


@pytest.fixture
def crashing(monkeypatch):
    """run_filing dies (as the worker would) while ``dying`` holds True; the calls are counted."""
    calls = {"n": 0, "dying": True}
    real = run.run_filing

    def run_filing(**kw):
        calls["n"] += 1
        if calls["dying"]:
            raise WorkerDied
        return real(**kw)

    monkeypatch.setattr(services, "run_filing", run_filing)
    return calls


def deliver(ti, *, apply=False, actor=None, task_id="delivery", run=None):
    """What a worker does with the message of ``run`` (the import's current run by default)."""
    kwargs = {"apply": apply, "actor_id": actor.pk if actor else None, "run": run or ti.run}
    return run_tax_import.apply(args=[ti.pk], kwargs=kwargs, task_id=task_id).get()


def silence(ti, seconds):
    """The import's last heartbeat was ``seconds`` ago."""
    cache.set(progress.TRACKER.beat_key(ti.pk), time.time() - seconds)


def fresh(ti):
    return TaxImport.objects.get(pk=ti.pk)


def previewed(users, regions, world):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    deliver(ti)
    ti.refresh_from_db()
    assert ti.status == ImportStatus.PREVIEWED
    return ti


def confirmed(users, ti):
    assert services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)
    return ti


# --- At most one retry ---------------------------------------------------------------------------
def test_a_preview_that_kills_its_worker_fails_after_one_retry(users, regions, world, crashing):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    for n in range(1, MAX_DELIVERIES + 1):
        with pytest.raises(WorkerDied):
            deliver(ti)
        assert (fresh(ti).status, fresh(ti).attempts) == (ImportStatus.PREVIEWING, n)
    result = deliver(ti)  # redelivered again: given up, not run
    message = services.ERR_CRASHED.format(crashes=2, id=ti.pk)
    assert result == {"error": message} and crashing["n"] == 2
    ti.refresh_from_db()
    assert ti.status == ImportStatus.FAILED and ti.error == message
    assert progress.get_progress(ti.pk)["message"] == message
    assert not progress.tax_import_is_interrupted(ti)
    assert AuditEvent.objects.filter(action=services.AUDIT_ACTION, detail__step="given_up").exists()
    assert deliver(ti) == {} and crashing["n"] == 2  # and a fourth delivery finds it ended


def test_an_apply_that_kills_its_worker_fails_after_one_retry_and_changes_nothing(users, regions, world, crashing):
    crashing["dying"] = False
    ti = confirmed(users, previewed(users, regions, world))
    crashing["dying"] = True
    for _ in range(MAX_DELIVERIES):
        with pytest.raises(WorkerDied):
            deliver(ti, apply=True, actor=users["tax"])
    assert fresh(ti).status == ImportStatus.APPLYING
    assert deliver(ti, apply=True, actor=users["tax"]) == {"error": services.ERR_CRASHED.format(crashes=2, id=ti.pk)}
    assert crashing["n"] == 1 + 2  # the preview, then two deliveries of the apply
    assert fresh(ti).status == ImportStatus.FAILED
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.PENDING


def test_resuming_counts_towards_the_limit(users, regions, world, crashing):
    """A worker killed hard is not redelivered for an hour; its user resumes instead. The file
    that killed it twice is given up all the same."""
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    with pytest.raises(WorkerDied):
        deliver(ti, task_id="first")
    silence(ti, progress.interrupted_after() + 1)
    assert services.tax_import_resume(actor=users["tax"], tax_import=ti)
    with pytest.raises(WorkerDied):
        deliver(ti, task_id="second")
    silence(ti, progress.interrupted_after() + 1)
    assert services.tax_import_resume(actor=users["tax"], tax_import=ti)
    assert deliver(ti, task_id="third") == {"error": services.ERR_CRASHED.format(crashes=2, id=ti.pk)}
    assert crashing["n"] == 2 and fresh(ti).status == ImportStatus.FAILED


def test_a_run_that_merely_raised_is_not_a_crash(users, regions, world, monkeypatch):
    def broken(**kw):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "run_filing", broken)
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    with pytest.raises(RuntimeError):
        deliver(ti)
    ti.refresh_from_db()
    assert ti.status == ImportStatus.FAILED and ti.error == services.ERR_UNEXPECTED.format(id=ti.pk)
    assert ti.attempts == 0


# --- Interrupted: both phases, about two minutes --------------------------------------------------
@pytest.mark.parametrize(
    "status, message",
    [
        (ImportStatus.UPLOADED, progress.MSG_INTERRUPTED_PREVIEW),
        (ImportStatus.PREVIEWING, progress.MSG_INTERRUPTED_PREVIEW),
        (ImportStatus.APPLYING, progress.MSG_INTERRUPTED_APPLY),
    ],
)
def test_a_run_without_heartbeat_for_two_minutes_is_interrupted(users, regions, world, settings, status, message):
    assert settings.CANBAO_IMPORT_INTERRUPTED_AFTER == 120
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    TaxImport.objects.filter(pk=ti.pk).update(status=status)
    ti.refresh_from_db()
    progress.set_progress(ti.pk, 32, "已处理 5000 / 约 15000 行")
    assert not progress.tax_import_is_interrupted(ti)
    silence(ti, 100)
    assert not progress.tax_import_is_interrupted(ti) and progress.status_label(ti) == ti.get_status_display()
    silence(ti, 125)
    assert progress.tax_import_is_interrupted(ti)
    assert progress.status_label(ti) == progress.INTERRUPTED_LABEL
    assert progress.interrupted_message(ti) == message.format(minutes=2)
    cache.delete(progress.TRACKER.beat_key(ti.pk))  # nothing known (the cache was emptied): since the upload
    assert not progress.tax_import_is_interrupted(ti)
    assert progress.tax_import_is_interrupted(ti, now=ti.created_at.timestamp() + 121)


@pytest.mark.parametrize("status", [ImportStatus.PREVIEWED, ImportStatus.APPLIED, ImportStatus.FAILED, ImportStatus.CANCELLED])
def test_an_import_at_rest_is_never_interrupted(users, regions, world, status):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    TaxImport.objects.filter(pk=ti.pk).update(status=status)
    ti.refresh_from_db()
    silence(ti, 3600)
    assert not progress.tax_import_is_interrupted(ti)
    assert not services.tax_import_resume(actor=users["tax"], tax_import=ti)


def test_a_long_silent_phase_keeps_beating(users, regions, world, settings, monkeypatch):
    """The sheet load reports no progress; the heartbeat thread beats through it."""
    settings.CANBAO_IMPORT_INTERRUPTED_AFTER = 0.6  # a beat every 0.1 s
    seen = []
    real = readers.read_filing

    def slow_read(*args, **kw):
        cache.delete(progress.TRACKER.beat_key(ti.pk))
        time.sleep(0.5)
        seen.append(cache.get(progress.TRACKER.beat_key(ti.pk)))
        return real(*args, **kw)

    monkeypatch.setattr(readers, "read_filing", slow_read)
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    deliver(ti)
    assert seen and seen[0] is not None and time.time() - seen[0] < 1
    assert fresh(ti).status == ImportStatus.PREVIEWED
    assert not any(t.name.startswith(f"taximport-{ti.pk}-") for t in threading.enumerate())  # the thread ended


# --- Resume ----------------------------------------------------------------------------------------
def test_resume_an_interrupted_preview_and_drop_the_late_old_message(users, regions, world, crashing):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    old_run = ti.run
    with pytest.raises(WorkerDied):
        deliver(ti, task_id="old")
    assert not services.tax_import_resume(actor=users["tax"], tax_import=ti)  # not yet: it may be alive
    silence(ti, progress.interrupted_after() + 1)
    other = UserFactory(username="tax2", role=Role.TAX, region=regions["county"])  # anyone who may run it
    assert services.tax_import_resume(actor=other, tax_import=ti)
    assert ti.run != old_run and ti.status == ImportStatus.PREVIEWING
    assert not progress.tax_import_is_interrupted(ti)
    assert not services.tax_import_resume(actor=users["tax"], tax_import=ti)  # a second resume: nothing
    crashing["dying"] = False
    assert deliver(ti, task_id="new")["confirmed"] == 6
    assert fresh(ti).status == ImportStatus.PREVIEWED
    assert deliver(ti, task_id="old", run=old_run) == {"stale": old_run}  # the old message, an hour later
    assert fresh(ti).status == ImportStatus.PREVIEWED and crashing["n"] == 2


def test_resume_an_interrupted_apply_applies_once(users, regions, world, crashing):
    crashing["dying"] = False
    ti = confirmed(users, previewed(users, regions, world))
    old_run = ti.run
    crashing["dying"] = True
    with pytest.raises(WorkerDied):
        deliver(ti, apply=True, actor=users["tax"], task_id="old")
    silence(ti, progress.interrupted_after() + 1)
    assert services.tax_import_resume(actor=users["tax"], tax_import=ti)
    assert ti.status == ImportStatus.APPLYING
    crashing["dying"] = False
    result = deliver(ti, apply=True, actor=users["tax"], task_id="new")
    assert result["confirmed"] == 6 and fresh(ti).status == ImportStatus.APPLIED
    history = Enrollment.history.count()
    assert deliver(ti, apply=True, actor=users["tax"], task_id="old", run=old_run) == {"stale": old_run}
    assert deliver(ti, apply=True, actor=users["tax"], task_id="new") == result  # its own redelivery
    assert Enrollment.history.count() == history and crashing["n"] == 3
    silence(ti, 3600)
    assert not services.tax_import_resume(actor=users["tax"], tax_import=ti)  # applied: nothing to resume


def test_confirming_an_interrupted_apply_again_is_a_resume(users, regions, world, crashing):
    crashing["dying"] = False
    ti = confirmed(users, previewed(users, regions, world))
    crashing["dying"] = True
    with pytest.raises(WorkerDied):
        deliver(ti, apply=True, actor=users["tax"], task_id="old")
    assert not services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)  # alive, as far as anyone knows
    silence(ti, progress.interrupted_after() + 1)
    old_run = ti.run
    assert services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)
    assert ti.run != old_run and ti.attempts == 1  # the death still counts


def test_a_late_preview_message_does_not_disturb_the_apply(users, regions, world):
    """Resumed preview, confirmed, applying: the first preview's message comes back."""
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    old_run = ti.run
    TaxImport.objects.filter(pk=ti.pk).update(status=ImportStatus.PREVIEWING)
    silence(ti, progress.interrupted_after() + 1)
    assert services.tax_import_resume(actor=users["tax"], tax_import=ti)
    deliver(ti)
    assert services.tax_import_mark_applying(actor=users["tax"], tax_import=ti)
    assert deliver(ti, task_id="old", run=old_run) == {"stale": old_run}
    assert fresh(ti).status == ImportStatus.APPLYING
    assert deliver(ti, apply=True, actor=users["tax"])["confirmed"] == 6


def test_only_those_who_may_run_it_resume_it(users, regions, world):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    silence(ti, progress.interrupted_after() + 1)
    for name in ("bureau", "clerk", "collector"):
        with pytest.raises(PermissionDenied):
            services.tax_import_resume(actor=users[name], tax_import=ti)
    with pytest.raises(PermissionDenied):
        services.tax_import_resume(actor=UserFactory(role=Role.TAX, region=None), tax_import=ti)
    assert fresh(ti).run == ti.run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_resumes_at_once_start_one_run(users, regions, world, monkeypatch):
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    TaxImport.objects.filter(pk=ti.pk).update(status=ImportStatus.APPLYING, preview={"confirmed": 6})
    silence(ti, progress.interrupted_after() + 1)
    real = services._queue_run

    def slow_queue_run(*args, **kw):  # hold the row while the other resume arrives
        time.sleep(0.3)
        return real(*args, **kw)

    monkeypatch.setattr(services, "_queue_run", slow_queue_run)
    start = threading.Barrier(2)
    results = []

    def resume():
        from django.db import connection

        try:
            start.wait()
            results.append(services.tax_import_resume(actor=users["tax"], tax_import=TaxImport.objects.get(pk=ti.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert fresh(ti).run != ti.run


def test_a_new_run_is_compare_and_set_on_the_old_one(users, regions, world):
    """Where row locks are no-ops (SQLite), two resumes that both read the import before either
    wrote still start one run."""
    ti = upload(users, regions, workbook_bytes(filing_rows(world)))
    a, b = TaxImport.objects.get(pk=ti.pk), TaxImport.objects.get(pk=ti.pk)
    kw = {"status": ImportStatus.PREVIEWING, "attempts": 0, "waiting": services.MSG_WAITING_PREVIEW}
    assert services._queue_run(a, **kw) is True
    assert services._queue_run(b, **kw) is False
    assert fresh(ti).run not in ("", ti.run)
