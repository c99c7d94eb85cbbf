"""Record reads and actions that must be traceable (full-ID views, exports, imports)."""

from .models import AuditEvent

ACTION_VIEW_FULL_ID = "view_full_id"
ACTION_EXPORT = "export"
ACTION_IMPORT = "import"
ACTION_CARRY_OVER = "carry_over"

# What the bureau reads for each action code. Codes recorded by other modules under their own
# constants (config.tokens, collections_app.tax_import.services) are listed here too, by value,
# since enrollment imports neither; tests check the two stay in step.
ACTION_LABELS = {
    ACTION_VIEW_FULL_ID: "查看完整身份证号码",
    ACTION_EXPORT: "导出",
    ACTION_IMPORT: "导入",
    ACTION_CARRY_OVER: "花名册结转",
    "tax_import": "导入税务缴费数据",
    "token_create": "生成 API 令牌",
    "token_revoke": "注销 API 令牌",
}


def action_label(action: str) -> str:
    """The Chinese label of an action code (the code itself when it has none)."""
    return ACTION_LABELS.get(action, action)


def record(*, actor, action: str, obj=None, detail: dict | None = None, region=None) -> AuditEvent:
    """``region``: where to file an event no one in a region did (a lock-out, a command); an
    actor's event is filed at the actor's county."""
    if actor is not None and getattr(actor, "region_id", None):
        region = actor.county
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        region=region,
        detail=detail or {},
    )


def record_export(*, actor, obj=None, detail: dict, full_ids: bool) -> None:
    """An export; one that wrote full ID numbers is recorded as a view of full IDs as well."""
    detail = {**detail, "full_id": full_ids}
    record(actor=actor, action=ACTION_EXPORT, obj=obj, detail=detail)
    if full_ids:
        record(actor=actor, action=ACTION_VIEW_FULL_ID, obj=obj, detail={**detail, "page": "export"})
