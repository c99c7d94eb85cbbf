"""Celery task: thin — receives an id, loads the import and calls the service.

Each message names the run it was queued as (``run``; see services ``_queue_run``): a late
redelivery of a run that was resumed or has ended does nothing. Deliveries are counted on the
import's row (``attempts`` of its current phase), which outlives a killed worker: a preview or
an apply whose worker died twice is given up on the next delivery or resume — a failed import
saying the file stopped the import (core/task_guard.py: the rule for every task). Since
apply is one transaction, a killed worker leaves the database as before; an import whose worker
vanished is shown 中断 once its heartbeat is older than settings.CANBAO_IMPORT_INTERRUPTED_AFTER,
and can be resumed (``services.tax_import_resume``).
"""

import logging

from celery import shared_task

from core.choices import RUNNING_IMPORT_STATUSES, ImportStatus
from core.models import User
from core.task_guard import CrashGuardedTask

from ..models.tax_imports import TaxImport
from . import services

TASK_NAME = "collections_app.tax_import.run_tax_import"
ERR_QUEUE = "任务未能启动，请稍后重试。"

log = logging.getLogger(__name__)


def _import_and_run(args, kwargs) -> tuple[int, str]:
    import_id = kwargs.get("import_id", args[0] if args else None)
    return import_id, kwargs.get("run") or (args[3] if len(args) > 3 else "")


class TaxImportTask(CrashGuardedTask):
    """Counts the deliveries of a run on the import's row; messages without a run (queued
    before runs existed) are counted as every task's are."""

    def delivery_started(self, task_id, args, kwargs):
        import_id, run = _import_and_run(args, kwargs)
        if not run:
            return super().delivery_started(task_id, args, kwargs)
        return services.tax_import_delivery_started(import_id=import_id, run=run)

    def delivery_ended(self, task_id, args, kwargs):
        import_id, run = _import_and_run(args, kwargs)
        if not run:
            return super().delivery_ended(task_id, args, kwargs)
        services.tax_import_delivery_ended(import_id=import_id, run=run)

    def give_up(self, task_id, args, kwargs, *, crashes):
        import_id, run = _import_and_run(args, kwargs)
        if not run:
            return super().give_up(task_id, args, kwargs, crashes=crashes)
        return services.tax_import_give_up(import_id=import_id, run=run, crashes=crashes)


@shared_task(name=TASK_NAME, base=TaxImportTask)
def run_tax_import(import_id: int, apply: bool = False, actor_id: int | None = None, run: str = "") -> dict:
    ti = TaxImport.objects.select_related("county").get(pk=import_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        if apply:
            return services.tax_import_apply(actor=actor, tax_import=ti, run=run or None)
        return services.tax_import_preview(tax_import=ti, run=run or None)
    except services.ImportFailed as exc:
        return {"error": exc.message}
    except services.StaleRun:
        return {"stale": run}


def queue_tax_import(tax_import: TaxImport, *, actor, apply: bool, previous: str | None = None) -> bool:
    """Queue the import's current run: the one way a page or the API starts one. When the queue
    refuses (the broker is down), a confirmed apply already shown as 正在导入 goes back to its
    ``previous`` status (previewed or failed; an interrupted apply is shown failed, to be
    confirmed again) so nothing looks as if it were running. Returns whether the run was queued
    — or, run eagerly, ended with its outcome recorded on the import; False: say ERR_QUEUE."""
    revert_to = None
    if previous is not None:
        revert_to = previous if previous in (ImportStatus.PREVIEWED, ImportStatus.FAILED) else ImportStatus.FAILED
    try:
        run_tax_import.delay(tax_import.pk, apply=apply, actor_id=actor.pk, run=tax_import.run)
    except Exception:  # noqa: BLE001 - eager failures are recorded on the import; broker down → say so
        log.exception("tax import %s task", tax_import.pk)
        if revert_to and services.tax_import_not_queued(tax_import=tax_import, back_to=revert_to, error=ERR_QUEUE):
            return False
        tax_import.refresh_from_db()
        return tax_import.status not in RUNNING_IMPORT_STATUSES
    return True
