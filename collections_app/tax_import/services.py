"""Tax filing import, the services: upload → preview (a dry run of the same code path) → apply
(one transaction), and the runs' queueing, resuming and crash counting.

A run reads as reader → matcher → writer → run: ``readers`` (the sheet, row by row), ``matching``
(what each row means against what is owed; ``persons`` and ``roster`` read what it matches
against), ``writer`` (the PostgreSQL COPY path and the generic path) and ``run`` (chunks through
all three inside ONE ``transaction.atomic``, so a failure or a killed worker leaves nothing
half-applied). ``progress`` holds the heartbeat that tells an interrupted run."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.choices import RUNNING_IMPORT_STATUSES, ImportStatus, RegionLevel
from core.scoping import region_in_scope
from core.spreadsheets import UploadError, check_sheet, check_upload
from subsidies.selectors import benefit_year

from ..models.tax_imports import TaxImport, TaxImportRow
from . import readers
from .progress import heartbeat, set_progress, tax_import_is_interrupted
from .run import COUNT_KEYS, run_filing

log = logging.getLogger(__name__)


ERR_NO_PERMISSION = "只有税务局工作人员可以导入税务缴费数据。"
ERR_COUNTY = "只能导入本县的税务数据。"
ERR_NOT_COUNTY = "请选择县/区。"
ERR_NOT_PREVIEWED = "请先完成预检，再确认导入。"
ERR_CANCELLED = "该批次已放弃，不能导入。"
ERR_UNEXPECTED = "导入时发生意外错误，数据库未做任何修改。请联系管理员（批次 {id}）。"
ERR_RUNNING = "该批次正在导入，请稍候。"
ERR_NOT_INTERRUPTED = "该批次没有中断，不需要继续：正在处理的请稍候，已处理完的请刷新页面查看结果。"
ERR_CRASHED = (
    "这个文件使处理导入的进程中止了{crashes}次，导入已停止，数据库未做任何修改。请确认上传的是税务系统导出的"
    "原始缴费明细且文件完整，重新导出后再上传；仍然不行请联系管理员（批次 {id}）。"
)
MSG_WAITING_PREVIEW = "等待预检…"
MSG_WAITING_APPLY = "等待导入…"
AUDIT_ACTION = "tax_import"


class ImportFailed(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StaleRun(Exception):
    """A task of a run that is no longer the import's current one (a late redelivery of a run
    that was resumed, or of one that finished): it does nothing."""


def _check_actor(actor, county) -> None:
    if actor is None:
        return  # the command line (an operator on the server)
    if not actor.can("taximport.run"):
        raise PermissionDenied(ERR_NO_PERMISSION)
    if not region_in_scope(actor, county):
        raise PermissionDenied(ERR_COUNTY)


def tax_import_create(*, actor, county, upload, name: str = "", year: int | None = None) -> TaxImport:
    """Check the upload (size, real xlsx/csv, zip bomb) and store it under MEDIA_ROOT."""
    if county is None or county.level != RegionLevel.COUNTY:
        raise ImportFailed(ERR_NOT_COUNTY)
    _check_actor(actor, county)
    name = os.path.basename(name or getattr(upload, "name", "") or "filing.xlsx")
    try:
        kind = check_upload(upload, name=name)
        check_sheet(upload, kind)  # here, once: the runs then read the stored file without a second scan
    except UploadError as exc:
        raise ImportFailed(exc.message) from None
    upload.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: upload.read(1 << 20), b""):
        digest.update(block)
    upload.seek(0)
    ext = kind  # xlsx, xls, ods or csv, as the door check found it
    ti = TaxImport(
        county=county, year=year or benefit_year(county), original_name=name[:200], kind=kind,
        uploaded_by=actor if actor else None, run=uuid.uuid4().hex,  # the preview queued after the upload
        checked_sha256=digest.hexdigest(),
    )
    ti.file.save(f"{digest.hexdigest()[:16]}.{ext}", File(upload), save=False)
    ti.full_clean(exclude=["file"])
    ti.save()
    set_progress(ti.pk, 0, MSG_WAITING_PREVIEW)  # queued: its first beat
    audit.record(actor=actor, action=AUDIT_ACTION, obj=ti, detail={"step": "upload", "file": ti.original_name, "county": county.code})
    return ti


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(ti: TaxImport):
    """The stored file's sheet: trusted to have passed the guard only while it is the very file
    that passed it at upload (hashing 35 MB costs ~0.1 s; the guard's scan ~2 s of a county import)."""
    path = ti.file.path
    checked = bool(ti.checked_sha256) and _sha256(path) == ti.checked_sha256
    if ti.kind == "csv":
        with open(path, "rb") as fh:
            return readers.open_sheet(fh, "csv", checked=checked)
    return readers.open_sheet(path, ti.kind or "xlsx", checked=checked)


def _execute(ti: TaxImport, *, actor, dry_run: bool) -> dict:
    def progress(percent, message):
        set_progress(ti.pk, percent, message)

    sheet = _open(ti)
    try:
        TaxImportRow.objects.filter(tax_import=ti).delete()
        return run_filing(sheet=sheet, county=ti.county, default_year=ti.year, actor=actor, dry_run=dry_run, tax_import=ti, progress=progress)
    finally:
        sheet.close()


def _of_run(ti: TaxImport, run: str | None):
    """The import's row, and only while ``run`` is its current run (any run when None: the
    command line runs the services itself)."""
    rows = TaxImport.objects.filter(pk=ti.pk)
    return rows if run is None else rows.filter(run=run)


def _fail(ti: TaxImport, message: str, *, status=ImportStatus.FAILED, run: str | None = None) -> None:
    if _of_run(ti, run).update(status=status, error=message):
        set_progress(ti.pk, 100, message)
    ti.refresh_from_db()


def tax_import_preview(*, tax_import: TaxImport, run: str | None = None) -> dict:
    """The dry run: the same code path as apply, writing only the problem rows and the preview.

    ``run`` (from the task): the run it was queued as; a delivery of another run does nothing
    (raises StaleRun), and a second delivery of a run that finished leaves its preview. The row
    stays locked while the preview runs, so a resume sees it alive."""
    ti = tax_import
    if ti.status in (ImportStatus.APPLIED, ImportStatus.CANCELLED):
        return ti.summary
    # A run is queued as 已上传 (the upload) or 正在预检 (a resume); in any other status it has ended.
    startable = [ImportStatus.UPLOADED, ImportStatus.PREVIEWING]
    if run is None:
        startable += [ImportStatus.PREVIEWED, ImportStatus.FAILED]
    if not _of_run(ti, run).filter(status__in=startable).update(status=ImportStatus.PREVIEWING, error=""):
        ti.refresh_from_db()
        if run is not None and ti.run != run:
            raise StaleRun(run)
        return ti.summary  # this run has ended: a second delivery changes nothing
    set_progress(ti.pk, 1, "正在预检…")
    try:
        with heartbeat(ti.pk), transaction.atomic():
            locked = TaxImport.objects.select_for_update().get(pk=ti.pk)
            if run is not None and locked.run != run:
                raise StaleRun(run)  # resumed meanwhile: the new run previews
            summary = _execute(locked, actor=None, dry_run=True)
            # attempts=0 with the status: the phase has ended, not only once the task has returned
            TaxImport.objects.filter(pk=ti.pk).update(status=ImportStatus.PREVIEWED, preview=summary, error="", attempts=0)
    except StaleRun:
        raise
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message, run=run)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s preview failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk), run=run)
        raise
    set_progress(ti.pk, 100, "预检完成")
    ti.refresh_from_db()
    return summary


def tax_import_apply(*, actor, tax_import: TaxImport, require_preview: bool = True, run: str | None = None) -> dict:
    """Apply a previewed import atomically. Idempotent: an applied import is left as it is.

    ``run`` (from the task): the run it was queued as; a delivery of another run does nothing
    (raises StaleRun). The row is locked for the whole transaction, so of two deliveries one
    applies and the other finds it applied, and a resume sees a running apply alive."""
    ti = tax_import
    _check_actor(actor, ti.county)
    if run is None:  # the command line; a task's run was queued as 正在导入 (tax_import_mark_applying)
        ready = [ImportStatus.PREVIEWED, ImportStatus.FAILED] + ([] if require_preview else [ImportStatus.UPLOADED])
        TaxImport.objects.filter(pk=ti.pk, status__in=ready).update(status=ImportStatus.APPLYING)
    try:
        with heartbeat(ti.pk), transaction.atomic():
            locked = TaxImport.objects.select_for_update().get(pk=ti.pk)
            if run is not None and locked.run != run:
                raise StaleRun(run)
            if locked.status == ImportStatus.APPLIED:
                return locked.result
            if locked.status == ImportStatus.CANCELLED:
                raise ImportFailed(ERR_CANCELLED)
            if run is not None and locked.status != ImportStatus.APPLYING:
                return locked.summary  # this run has ended (failed): a second delivery changes nothing
            if locked.status == ImportStatus.UPLOADED and require_preview:
                raise ImportFailed(ERR_NOT_PREVIEWED)
            set_progress(ti.pk, 1, "正在导入…")
            summary = _execute(locked, actor=actor, dry_run=False)
            now = timezone.now()
            TaxImport.objects.filter(pk=ti.pk).update(
                status=ImportStatus.APPLIED, result=summary, applied_at=now, applied_by=actor if actor else None, error="",
                attempts=0,
            )
            audit.record(
                actor=actor, action=AUDIT_ACTION, obj=locked,
                detail={"step": "apply", "file": locked.original_name, **{k: summary[k] for k in ("rows_read", *COUNT_KEYS)}},
            )
    except (ImportFailed, StaleRun):
        raise
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message, run=run)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s apply failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk), status=ImportStatus.FAILED, run=run)
        raise
    set_progress(ti.pk, 100, "导入完成")
    ti.refresh_from_db()
    return summary


# --- Runs: queuing, resuming, counting the deliveries that died ----------------------------------
def _queue_run(locked: TaxImport, *, status: str, attempts: int, waiting: str) -> bool:
    """A new run of ``locked`` (its row locked by the caller): the task to queue carries
    ``run``, every earlier run's messages become stale. Compare-and-set on the previous run, so
    two callers at once (even where row locks are no-ops, SQLite) start one run."""
    started = TaxImport.objects.filter(pk=locked.pk, run=locked.run).update(
        status=status, run=uuid.uuid4().hex, attempts=attempts, error=""
    )
    if started:
        set_progress(locked.pk, 0, waiting)
    return bool(started)


def tax_import_mark_applying(*, actor, tax_import: TaxImport) -> bool:
    """Before queuing the apply task: show the import as running (so pages poll its progress).

    Allowed for a previewed (or failed) import, and for an interrupted apply (a resume, see
    ``tax_import_resume``). Atomic: the import's row is locked, skipping it if a preview or an
    apply holds it (that run is alive), so of two confirms at once one wins. Returns whether to
    queue ``run_tax_import(…, apply=True, run=tax_import.run)``."""
    _check_actor(actor, tax_import.county)
    with transaction.atomic():
        locked = TaxImport.objects.select_for_update(skip_locked=True).filter(pk=tax_import.pk).first()
        ready = False
        if locked is not None and bool(locked.preview):
            if locked.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED):
                ready = _queue_run(locked, status=ImportStatus.APPLYING, attempts=0, waiting=MSG_WAITING_APPLY)
            elif locked.status == ImportStatus.APPLYING and tax_import_is_interrupted(locked):
                ready = _queue_run(locked, status=ImportStatus.APPLYING, attempts=locked.attempts, waiting=MSG_WAITING_APPLY)
    tax_import.refresh_from_db()
    return ready


def tax_import_not_queued(*, tax_import: TaxImport, back_to: str, error: str) -> bool:
    """An apply marked running whose task could not be queued goes back to ``back_to`` (its
    preview, or failed with ``error``); only while still marked applying and never started, so
    a run that did start is left alone. Returns whether it went back."""
    back = {"status": back_to, **({"error": error} if back_to == ImportStatus.FAILED else {})}
    reverted = TaxImport.objects.filter(pk=tax_import.pk, status=ImportStatus.APPLYING).update(**back)
    tax_import.refresh_from_db()
    return bool(reverted)


def tax_import_resume(*, actor, tax_import: TaxImport) -> bool:
    """Rerun the preview or the apply of an interrupted import (its worker gone): for its own
    uploader or anyone who may run imports of its county. Returns whether to queue
    ``run_tax_import(…, apply=tax_import.status == APPLYING, run=tax_import.run)``.

    Idempotent and safe: a row locked by a running preview or apply is skipped (alive); the new
    run is compare-and-set on the old one and beats at once, so of two resumes at once one
    starts a run; the old run's messages, delivered late, do nothing (StaleRun); an applied
    import is never interrupted. The phase's count of deaths carries on (``attempts``): a file
    that kills its worker is given up after a retry, however it was restarted."""
    _check_actor(actor, tax_import.county)
    with transaction.atomic():
        locked = TaxImport.objects.select_for_update(skip_locked=True).filter(pk=tax_import.pk).first()
        ready = locked is not None and tax_import_is_interrupted(locked)
        if ready:
            applying = locked.status == ImportStatus.APPLYING
            ready = _queue_run(
                locked, status=locked.status, attempts=locked.attempts,
                waiting=MSG_WAITING_APPLY if applying else MSG_WAITING_PREVIEW,
            )
    tax_import.refresh_from_db()
    if ready:
        audit.record(actor=actor, action=AUDIT_ACTION, obj=tax_import, detail={"step": "resume", "status": tax_import.status})
    return ready


def tax_import_delivery_started(*, import_id: int, run: str) -> int | None:
    """A task of ``run`` starts: count it on the row. How many deliveries of this phase have
    started without ending (this one included), or None when ``run`` is not the import's current
    run or the import is no longer queued or running (nothing to count: the task will find it so)."""
    if not TaxImport.objects.filter(pk=import_id, run=run, status__in=RUNNING_IMPORT_STATUSES).update(attempts=F("attempts") + 1):
        return None
    return TaxImport.objects.filter(pk=import_id).values_list("attempts", flat=True).first()


def tax_import_delivery_ended(*, import_id: int, run: str) -> None:
    """The task of ``run`` returned or raised: no worker died on it."""
    TaxImport.objects.filter(pk=import_id, run=run, attempts__gt=0).update(attempts=0)


def tax_import_give_up(*, import_id: int, run: str, crashes: int) -> dict:
    """The phase killed its worker ``crashes`` times: a failed import, with a message saying so."""
    message = ERR_CRASHED.format(crashes=crashes, id=import_id)
    if TaxImport.objects.filter(pk=import_id, run=run, status__in=RUNNING_IMPORT_STATUSES).update(
        status=ImportStatus.FAILED, error=message
    ):
        set_progress(import_id, 100, message)
        ti = TaxImport.objects.get(pk=import_id)
        audit.record(actor=None, action=AUDIT_ACTION, obj=ti, detail={"step": "given_up", "crashes": crashes})
    return {"error": message}


def tax_import_cancel(*, actor, tax_import: TaxImport) -> None:
    _check_actor(actor, tax_import.county)
    # The condition is in the UPDATE, not only in Python: a cancel that waited for a running
    # apply's row lock sees the applied row and leaves it (PostgreSQL re-checks the WHERE).
    TaxImport.objects.filter(pk=tax_import.pk).exclude(status=ImportStatus.APPLIED).update(status=ImportStatus.CANCELLED)
    tax_import.refresh_from_db()
