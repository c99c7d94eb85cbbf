"""The import flow, the same for every importer: upload → preview (nothing written) → confirm →
apply (every allowed row in one transaction, or none) — with the run's status, its per-row
outcomes and one audit event kept here, so no importer or page has to remember them.

Statuses: uploaded → previewing → previewed → applying → applied; an apply that finds rows the
preview did not show writes nothing and ends ``refused`` with the new outcomes; a file that
cannot be read ends ``failed`` with a Chinese message; a previewed run may be cancelled, and so
may a run whose worker went silent (``interrupted``: the heartbeat rule of every import, in
``progress``) — its transaction died with it, so nothing was written.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from .. import audit
from ..access import require
from ..choices import RUNNING_IMPORT_STATUSES, ImportStatus
from ..intake import ReaderError
from ..models import ImportRun
from ..scoping import ensure_region_visible
from ..spreadsheets import UploadError, check_upload
from . import progress
from .importers import ERROR, ApplyRefused, Checked, importer_for

ERR_UNREADABLE = "无法读取这个文件：它不是有效的 Excel（.xlsx、.xls）、.ods 或 CSV 文件，或者已损坏。请用 Excel 打开后另存为 .xlsx 再上传。"
ERR_NOT_PREVIEWED = "这个文件还没有预检通过，不能确认导入。"
ERR_NOTHING_TO_APPLY = "没有可以导入的行。"
ERR_HAS_ERRORS = "文件中有错误行，没有写入任何数据。请按行改正后重新上传。"
ERR_APPLY_FAILED = "导入时出现意外错误，已全部撤销，没有写入任何数据。请稍后重新上传；如仍出错，请联系县医保局管理员。"
ERR_NOT_CANCELLABLE = "这个导入已经{status}，不能放弃。"
ERR_INTERRUPTED = "导入已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“放弃”后重新上传。"
INTERRUPTED_LABEL = "中断"
ROWS_KEPT = 20000  # rows with a message stored on the run; the counts always cover every row

log = logging.getLogger(__name__)


def require_importer(actor, importer) -> None:
    """PermissionDenied unless ``actor`` may use ``importer`` (all its capabilities)."""
    require(actor, *importer.capabilities)


def import_upload(*, actor, kind: str, region, upload, year: int | None = None, options: dict | None = None) -> ImportRun:
    """Store an uploaded file as a new run of ``kind`` into ``region`` after the door check
    (size, type, the guard). Nothing is read yet: ``import_preview`` does that."""
    importer = importer_for(kind)
    require_importer(actor, importer)
    ensure_region_visible(actor, region)
    name = getattr(upload, "name", "") or ""
    check_upload(upload, name=name)
    upload.seek(0)
    run = ImportRun(kind=kind, region=region, year=year, options=options or {}, original_name=name[:200], uploaded_by=actor)
    run.file.save(f"{kind}.upload", ContentFile(upload.read()), save=False)
    run.save()
    return run


def _store(run: ImportRun, checked: Checked) -> None:
    kept = [o for o in checked.outcomes if o.message or o.status == ERROR][:ROWS_KEPT]
    run.rows = [[o.line, o.status, o.message, o.name, o.id_number] for o in kept]
    run.counts = dict(checked.counts or {})
    run.total_rows = checked.total or 0


def confirmable(run: ImportRun) -> int:
    """How many rows a confirm would write (0: it cannot be confirmed)."""
    if run.status != ImportStatus.PREVIEWED:
        return 0
    importer = importer_for(run.kind)
    errors = run.counts.get(ERROR, 0)
    if importer.all_or_none and errors:
        return 0
    return sum(n for status, n in run.counts.items() if status != ERROR)


def interrupted(run: ImportRun) -> bool:
    """Queued or running, and its worker silent for longer than every import may be."""
    return run.status in RUNNING_IMPORT_STATUSES and progress.RUNS.interrupted(run.pk, since=run.created_at)


def interrupted_message() -> str:
    return ERR_INTERRUPTED.format(minutes=max(1, round(progress.interrupted_after() / 60)))


def import_preview(*, actor, run: ImportRun) -> ImportRun:
    """Read and check every row of the run's file; write nothing but the run's outcomes."""
    importer = importer_for(run.kind)
    require_importer(actor, importer)
    ensure_region_visible(actor, run.region)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.PREVIEWING)
    try:
        with progress.RUNS.heartbeat(run.pk):
            checked = importer.check(run, actor=actor, progress=progress.reporter(run.pk, "preview"))
    except PermissionDenied:
        raise
    except ReaderError:  # passed the guard, but the reader could not read it: its detail is not for clerks
        return _failed(run, ERR_UNREADABLE)
    except UploadError as exc:
        return _failed(run, exc.message)
    except Exception:  # a file no reader can read is the user's problem, said plainly
        log.info("import %s: unreadable file %r", run.pk, run.original_name, exc_info=True)
        return _failed(run, ERR_UNREADABLE)
    finally:
        progress.clear(run.pk)
    _store(run, checked)
    run.options = {**run.options, **checked.keep}
    run.status, run.error = ImportStatus.PREVIEWED, ""
    run.save(update_fields=["rows", "counts", "total_rows", "options", "status", "error"])
    return run


def _failed(run: ImportRun, message: str) -> ImportRun:
    run.status, run.error = ImportStatus.FAILED, message
    run.save(update_fields=["status", "error"])
    return run


def import_confirm(*, actor, run: ImportRun) -> bool:
    """Mark a previewed run as being applied (at most once: a second confirm finds it taken).
    False: it is not in a state to be confirmed."""
    importer = importer_for(run.kind)
    require_importer(actor, importer)
    ensure_region_visible(actor, run.region)
    if not confirmable(run):
        return False
    return bool(ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PREVIEWED).update(status=ImportStatus.APPLYING))


def import_apply(*, actor, run: ImportRun) -> ImportRun:
    """Apply a confirmed run: the importer checks the file again and writes its rows, all in one
    transaction with the run's outcome and the audit event. Rows the preview did not show roll
    everything back and leave the run ``refused`` with what was found."""
    importer = importer_for(run.kind)
    require_importer(actor, importer)
    ensure_region_visible(actor, run.region)
    report = progress.reporter(run.pk, "apply")
    try:
        with progress.RUNS.heartbeat(run.pk), transaction.atomic():
            locked = ImportRun.objects.select_for_update().get(pk=run.pk)
            if locked.status != ImportStatus.APPLYING:
                return locked  # applied, refused or cancelled meanwhile: nothing to do
            checked, written = importer.apply(locked, actor=actor, progress=report)
            if importer.all_or_none and checked.has_errors:
                raise ApplyRefused(checked)
            _store(locked, checked)
            locked.result = written
            locked.status, locked.error = ImportStatus.APPLIED, ""
            locked.applied_by, locked.applied_at = actor, timezone.now()
            locked.save()
            audit.record(actor=actor, action=audit.ACTION_IMPORT, obj=locked, detail={
                "what": locked.kind, "run": locked.pk, "year": locked.year, "region": locked.region_id,
                "file": locked.original_name, **written,
            })
            return locked
    except ApplyRefused as refused:
        run.refresh_from_db()
        _store(run, refused.checked)
        run.status, run.error = ImportStatus.REFUSED, ERR_HAS_ERRORS
        run.save(update_fields=["rows", "counts", "total_rows", "status", "error"])
        return run
    except (UploadError, ReaderError) as exc:
        return _failed(run, exc.message)
    except PermissionDenied:
        raise
    except Exception:  # the transaction rolled back: say so on the run, never leave it 正在导入
        log.exception("import %s: apply failed", run.pk)
        return _failed(run, ERR_APPLY_FAILED)
    finally:
        progress.clear(run.pk)


def import_cancel(*, actor, run: ImportRun) -> None:
    """Give up a run that has not been applied; its file and outcomes stay as a record. A run
    being applied can be given up only once interrupted (a live apply holds the run's row lock:
    this update waits for it and then finds it applied)."""
    importer = importer_for(run.kind)
    require_importer(actor, importer)
    ensure_region_visible(actor, run.region)
    ended = [ImportStatus.APPLIED, ImportStatus.CANCELLED]
    if not interrupted(run):
        ended.append(ImportStatus.APPLYING)
    done = ImportRun.objects.filter(pk=run.pk).exclude(status__in=ended).update(status=ImportStatus.CANCELLED)
    if not done:
        run.refresh_from_db()
        raise UploadError(ERR_NOT_CANCELLABLE.format(status=run.get_status_display()))
    run.refresh_from_db()
