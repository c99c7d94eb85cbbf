"""A run's page, the same for every importer: its progress while it runs, then its counts and the
rows that need attention, with confirm, cancel and the problem-row download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import disclosure
from ..access import require
from ..choices import RUNNING_IMPORT_STATUSES, ImportStatus
from ..models import ImportRun
from ..scoping import visible_or_404
from ..spreadsheets import UploadError, xlsx_response
from . import exports, flow, progress, tasks
from .importers import ERROR, importer_for

MSG_CANCELLED = "已放弃这次导入，没有写入任何数据。"
MSG_NOT_CONFIRMABLE = "这个文件现在不能确认导入（可能已确认过，或有错误行）。"
ROWS_PER_PAGE = 200


def _run_for(request, pk: int) -> ImportRun:
    run = visible_or_404(request.user, ImportRun.objects.select_related("region", "uploaded_by"), pk=pk)
    try:
        importer = importer_for(run.kind)
    except LookupError:
        raise Http404 from None  # no app imports this kind any more
    require(request.user, *importer.capabilities)
    return run


def context_for(user, run: ImportRun, *, page: str | None = None) -> dict:
    """What the run's page shows (also what the importers' own pages embed)."""
    importer = importer_for(run.kind)
    labels = importer.labels()
    rows = Paginator([
        {"line": line, "status": status, "label": labels.get(status, status), "message": message, "name": name, "id_number": number}
        for line, status, message, name, number in run.rows
    ], ROWS_PER_PAGE).get_page(page)
    disclosure.show_ids(user, rows.object_list, page="import_run", obj=run, number=lambda r: r["id_number"])
    interrupted = flow.interrupted(run)
    running = run.status in RUNNING_IMPORT_STATUSES and not interrupted
    return {
        "run": run, "importer": importer, "summary": importer.summary(run), "rows": rows,
        "counts": {status: run.counts.get(status, 0) for status in importer.statuses},
        "stats": [(labels[s], run.counts.get(s, 0)) for s in (*importer.statuses, ERROR)],
        "errors": run.counts.get(ERROR, 0),
        "problems": [tuple(p) for p in run.problems],
        "confirmable": flow.confirmable(run),
        "running": running,
        "interrupted": interrupted,
        "interrupted_message": flow.interrupted_message() if interrupted else "",
        "status_label": flow.INTERRUPTED_LABEL if interrupted else run.get_status_display(),
        "progress": progress.get(run.pk) if running else None,
    }


@login_required
def import_run(request, pk: int):
    run = _run_for(request, pk)
    return render(request, "core/import_run.html", context_for(request.user, run, page=request.GET.get("page")))


@login_required
@require_POST
def import_run_confirm(request, pk: int):
    run = _run_for(request, pk)
    importer = importer_for(run.kind)
    if not flow.import_confirm(actor=request.user, run=run):
        messages.error(request, MSG_NOT_CONFIRMABLE)
        return redirect("core:import_run", pk=run.pk)
    if not tasks.queue(run, actor=request.user, phase="apply"):
        messages.error(request, tasks.ERR_QUEUE)
    elif run.status == ImportStatus.APPLIED:
        messages.success(request, importer.done_message(run))
        return redirect(importer.done_url(run) or reverse("core:import_run", args=[run.pk]))
    elif run.status == ImportStatus.REFUSED:
        messages.error(request, run.error)
    return redirect("core:import_run", pk=run.pk)


@login_required
@require_POST
def import_run_cancel(request, pk: int):
    run = _run_for(request, pk)
    try:
        flow.import_cancel(actor=request.user, run=run)
    except UploadError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, MSG_CANCELLED)
    return redirect("core:import_run", pk=run.pk)


@login_required
def import_run_problems(request, pk: int):
    run = _run_for(request, pk)
    return xlsx_response(exports.problems_workbook(actor=request.user, run=run), f"导入问题行-{run.pk}.xlsx")


def start(request, run: ImportRun):
    """After an upload: queue the preview and go to the run's page (the importers' pages end here)."""
    if not tasks.queue(run, actor=request.user, phase="preview"):
        messages.error(request, tasks.ERR_QUEUE)
    elif run.status == ImportStatus.PREVIEWED:
        importer = importer_for(run.kind)
        if flow.confirmable(run):
            messages.info(request, importer.preview_message(run))
        else:
            messages.error(request, flow.ERR_HAS_ERRORS if importer.all_or_none else flow.ERR_NOTHING_TO_APPLY)
    return redirect("core:import_run", pk=run.pk)
