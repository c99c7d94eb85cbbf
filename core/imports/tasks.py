"""The import flow's Celery task: thin — loads the run and calls the flow. A run whose worker
died on it twice is given up (``core.task_guard``) and ends failed, saying so; since an apply
is one transaction, the database is as before."""

from __future__ import annotations

import logging

from celery import shared_task

from ..choices import RUNNING_IMPORT_STATUSES, ImportStatus
from ..models import ImportRun, User
from ..task_guard import CrashGuardedTask
from . import flow, progress

TASK_NAME = "core.imports.run_import"
ERR_GIVEN_UP = "处理这个文件的进程多次意外停止，导入已终止，没有写入任何数据。请检查文件后重新上传。"
ERR_QUEUE = "任务未能启动，请稍后重试。"

log = logging.getLogger(__name__)


class ImportTask(CrashGuardedTask):
    def give_up(self, task_id, args, kwargs, *, crashes):
        run_id = kwargs.get("run_id", args[0] if args else None)
        ImportRun.objects.filter(pk=run_id, status__in=RUNNING_IMPORT_STATUSES).update(
            status=ImportStatus.FAILED, error=ERR_GIVEN_UP
        )
        return super().give_up(task_id, args, kwargs, crashes=crashes)


@shared_task(name=TASK_NAME, base=ImportTask)
def run_import(run_id: int, phase: str, actor_id: int) -> str:
    run = ImportRun.objects.select_related("region").get(pk=run_id)
    actor = User.objects.get(pk=actor_id)
    if phase == "apply":
        return flow.import_apply(actor=actor, run=run).status
    return flow.import_preview(actor=actor, run=run).status


def queue(run: ImportRun, *, actor, phase: str) -> bool:
    """Start a run's preview or apply: the one way a page or the API does. Run eagerly (the
    embedded default) it has ended when this returns. False: the queue refused (the broker is
    down); a confirmed run goes back to previewed so nothing looks as if it were running."""
    progress.RUNS.beat(run.pk)  # queued: its first beat, or a confirm after a long-ago preview would look interrupted
    try:
        run_import.delay(run.pk, phase, actor.pk)
    except Exception:  # noqa: BLE001 - broker down, or an eager run raised: recorded on the run or said here
        log.exception("import run %s (%s)", run.pk, phase)
        back = ImportStatus.PREVIEWED if phase == "apply" else ImportStatus.FAILED
        ImportRun.objects.filter(pk=run.pk, status__in=RUNNING_IMPORT_STATUSES).update(
            status=back, error=ERR_QUEUE
        )
        run.refresh_from_db()
        return False
    run.refresh_from_db()
    return True
