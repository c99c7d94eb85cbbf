"""Record reads and actions that must be traceable (full-ID views, exports, imports)."""

from .models import AuditEvent

ACTION_VIEW_FULL_ID = "view_full_id"
ACTION_EXPORT = "export"
ACTION_IMPORT = "import"


def record(*, actor, action: str, obj=None, detail: dict | None = None) -> AuditEvent:
    region = actor.county if actor is not None and getattr(actor, "region_id", None) else None
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        region=region,
        detail=detail or {},
    )
