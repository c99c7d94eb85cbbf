"""Celery task: thin — receives an id, loads the import and calls the service.

Idempotent (CELERY_TASK_ACKS_LATE with CELERY_TASK_REJECT_ON_WORKER_LOST redelivers the task
when its worker process dies): an applied import is left alone, and since apply is one
transaction a crashed worker leaves the database as before. An import whose worker vanished
without a redelivery stays 正在导入 until ``services.tax_import_is_stuck`` says it has made no
progress for a while; then it may be confirmed again.
"""

from celery import shared_task

from enrollment.models import User

from ..models.tax_imports import TaxImport
from . import services

TASK_NAME = "collections_app.tax_import.run_tax_import"


@shared_task(name=TASK_NAME)
def run_tax_import(import_id: int, apply: bool = False, actor_id: int | None = None) -> dict:
    ti = TaxImport.objects.select_related("county").get(pk=import_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        if apply:
            return services.tax_import_apply(actor=actor, tax_import=ti)
        return services.tax_import_preview(tax_import=ti)
    except services.ImportFailed as exc:
        return {"error": exc.message}
