"""A running tax import's progress and what makes one interrupted. The cache keys, the heartbeat
and the silence rule are every import's (``core.imports.progress``); what is the tax import's own
is what it reports (a percentage and a sentence) and what it says when it stops."""

from __future__ import annotations

from core.choices import RUNNING_IMPORT_STATUSES, ImportStatus
from core.imports.progress import Tracker, interrupted_after

from ..models.tax_imports import TaxImport

MSG_INTERRUPTED_PREVIEW = (
    "预检已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新预检。"
)
MSG_INTERRUPTED_APPLY = (
    "导入已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新导入。"
)
INTERRUPTED_LABEL = "中断"  # shown in place of the status of an interrupted import


TRACKER = Tracker("taximport")


def set_progress(import_id: int, percent: int, message: str) -> None:
    """What a running import did last (a percentage and a sentence); also a beat."""
    TRACKER.set(import_id, percent=int(percent), message=message)


def get_progress(import_id: int) -> dict | None:
    return TRACKER.get(import_id)


def heartbeat(import_id: int):
    return TRACKER.heartbeat(import_id)


def tax_import_is_interrupted(tax_import: TaxImport, *, now: float | None = None) -> bool:
    """Queued or running (正在预检, 正在导入, or uploaded and waiting for its preview), and no beat for
    ``interrupted_after()`` seconds (none known: since the upload)."""
    if tax_import.status not in RUNNING_IMPORT_STATUSES:
        return False
    return TRACKER.interrupted(tax_import.pk, since=tax_import.created_at, now=now)


def interrupted_message(tax_import: TaxImport) -> str:
    template = MSG_INTERRUPTED_APPLY if tax_import.status == ImportStatus.APPLYING else MSG_INTERRUPTED_PREVIEW
    return template.format(minutes=max(1, round(interrupted_after() / 60)))


def status_label(tax_import: TaxImport, *, interrupted: bool | None = None) -> str:
    """The status as pages and the API show it: 中断 for an interrupted import."""
    if interrupted if interrupted is not None else tax_import_is_interrupted(tax_import):
        return INTERRUPTED_LABEL
    return tax_import.get_status_display()
