"""A running tax import's progress and heartbeat, and what makes one interrupted.

In the cache: the apply transaction is invisible to other connections, and a killed worker cannot
write anything at all."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from ..models.tax_imports import TaxImport, TaxImportStatus

MSG_INTERRUPTED_PREVIEW = (
    "预检已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新预检。"
)
MSG_INTERRUPTED_APPLY = (
    "导入已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新导入。"
)
INTERRUPTED_LABEL = "中断"  # shown in place of the status of an interrupted import
# Queued or running (a worker is meant to be on it): the statuses an interruption applies to.
RUNNING_STATUSES = (TaxImportStatus.UPLOADED, TaxImportStatus.PREVIEWING, TaxImportStatus.APPLYING)


# A running preview or apply beats at every progress report and, from a thread, every
# ``heartbeat_seconds()`` however long a silent phase lasts (the sheet load, the roster read); an
# import queued or running whose last beat is older than settings.CANBAO_IMPORT_INTERRUPTED_AFTER
# seconds is interrupted: its worker is gone (its transaction rolled back with its connection).
BEAT_TTL = 24 * 3600


def progress_key(import_id: int) -> str:
    return f"taximport:{import_id}:progress"


def beat_key(import_id: int) -> str:
    return f"taximport:{import_id}:beat"


def set_progress(import_id: int, percent: int, message: str) -> None:
    """What a running import did last, and when (``at``: seconds since the epoch); also a beat."""
    now = time.time()
    cache.set_many(
        {progress_key(import_id): {"percent": int(percent), "message": message, "at": now}, beat_key(import_id): now}, BEAT_TTL
    )


def get_progress(import_id: int) -> dict | None:
    return cache.get(progress_key(import_id))


def beat(import_id: int) -> None:
    cache.set(beat_key(import_id), time.time(), BEAT_TTL)


def interrupted_after() -> float:
    return float(settings.CANBAO_IMPORT_INTERRUPTED_AFTER)


def heartbeat_seconds() -> float:
    """Six beats per threshold: a few missed beats (a busy machine) do not look like a death."""
    return max(0.1, interrupted_after() / 6)


@contextmanager
def heartbeat(import_id: int):
    """Beat from a thread while the block runs."""
    stop = threading.Event()

    def run():
        while not stop.wait(heartbeat_seconds()):
            beat(import_id)

    thread = threading.Thread(target=run, name=f"taximport-{import_id}-heartbeat", daemon=True)
    beat(import_id)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def tax_import_is_interrupted(tax_import: TaxImport, *, now: float | None = None) -> bool:
    """Queued or running (正在预检, 正在导入, or uploaded and waiting for its preview), and no beat for
    ``interrupted_after()`` seconds (none known: since the upload)."""
    if tax_import.status not in RUNNING_STATUSES:
        return False
    last = cache.get(beat_key(tax_import.pk)) or tax_import.created_at.timestamp()
    return (now if now is not None else time.time()) - last > interrupted_after()


def interrupted_message(tax_import: TaxImport) -> str:
    template = MSG_INTERRUPTED_APPLY if tax_import.status == TaxImportStatus.APPLYING else MSG_INTERRUPTED_PREVIEW
    return template.format(minutes=max(1, round(interrupted_after() / 60)))


def status_label(tax_import: TaxImport, *, interrupted: bool | None = None) -> str:
    """The status as pages and the API show it: 中断 for an interrupted import."""
    if interrupted if interrupted is not None else tax_import_is_interrupted(tax_import):
        return INTERRUPTED_LABEL
    return tax_import.get_status_display()
