"""Who changed what, when, from what to what: simple_history's tables read for the bureau.

Pages (e.g. enrollment:audit_list, a person's or a policy's history tab) include these lists;
nothing here writes. Scoping: a change is listed when the changed object is visible to the user
today (``visible_to``), or for unscoped rows when their parent (policy, person…) is. ID numbers
in before/after values are masked unless the user may see full IDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db.models import Q

from . import idcard

KIND_LABELS = {"+": "新建", "~": "修改", "-": "删除"}
# Models whose changes the bureau reviews, as they appear in the apps (missing ones are skipped).
TRACKED_MODELS = (
    "enrollment.Person",
    "enrollment.Household",
    "enrollment.Enrollment",
    "enrollment.User",
    "subsidies.PersonIdentity",
    "subsidies.PolicyYear",
    "subsidies.Tier",
    "subsidies.SubsidyCategory",
    "subsidies.CategorySubsidy",
    "collections_app.Receipt",
    "collections_app.Remittance",
    "collections_app.Refund",
    "collections_app.Declaration",
)
ID_FIELDS = {"id_number"}
HIDDEN_FIELDS = {"password", "last_login", "updated_at", "created_at"}


@dataclass
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass
class Change:
    at: datetime
    who: str
    kind: str  # "+", "~", "-"
    model: str  # verbose name
    label: str  # app_label.ModelName
    object_id: object
    object_repr: str
    reason: str = ""
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def tracked_models():
    for label in TRACKED_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if hasattr(model, "history"):
            yield model


def _visible_ids_q(model, user):
    """A Q over the history table: rows whose object the user may see."""
    from .models import Region, User

    if user.is_superuser:
        return Q()
    if hasattr(model, "scope_path"):
        return Q(id__in=model.objects.visible_to(user).values("pk"))
    if model is User:
        return Q(region__in=Region.objects.visible_to(user).values("pk"))
    # Unscoped child rows (tiers, category amounts…): through the first scoped parent.
    for f in model._meta.concrete_fields:
        target = f.related_model if f.is_relation else None
        if target is not None and hasattr(target, "scope_path"):
            return Q(**{f"{f.attname}__in": target.objects.visible_to(user).values("pk")})
        if target is not None and target._meta.model_name == "subsidycategory":
            from subsidies.models import PolicyYear

            return Q(**{f"{f.attname}__in": target.objects.filter(policy__in=PolicyYear.objects.visible_to(user)).values("pk")})
    return Q(pk__in=[])  # fail closed


def _shown(value, field_name, full_ids: bool):
    if field_name in ID_FIELDS and isinstance(value, str) and not full_ids:
        return idcard.mask(value)
    return value


def _diff(record, full_ids: bool) -> list[FieldChange]:
    prev = record.prev_record
    model = record.instance_type
    out = []
    if prev is None:
        return out
    delta = record.diff_against(prev)
    for c in delta.changes:
        if c.field in HIDDEN_FIELDS:
            continue
        try:
            label = str(model._meta.get_field(c.field).verbose_name)
        except Exception:
            label = c.field
        out.append(FieldChange(c.field, label, _shown(c.old, c.field, full_ids), _shown(c.new, c.field, full_ids)))
    return out


def _to_change(record, model, full_ids: bool) -> Change:
    who = record.history_user.display_name if getattr(record, "history_user", None) else "系统"
    return Change(
        at=record.history_date,
        who=who,
        kind=record.history_type,
        model=str(model._meta.verbose_name),
        label=model._meta.label,
        object_id=record.id,
        object_repr=_shown(str(record.instance) if record.history_type != "-" else f"#{record.id}", "", full_ids),
        reason=getattr(record, "history_change_reason", "") or "",
        changes=_diff(record, full_ids) if record.history_type == "~" else [],
    )


def object_history(obj, *, user, limit: int = 100) -> list[Change]:
    """The changes of one object, newest first (empty if the user may not see it)."""
    model = type(obj)
    if not hasattr(model, "history"):
        return []
    records = model.history.model.objects.filter(id=obj.pk).filter(_visible_ids_q(model, user))
    records = records.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
    full_ids = user.can("id.full")
    return [_to_change(r, model, full_ids) for r in records]


def recent_changes(*, user, limit: int = 100, labels=None, since=None, actor=None) -> list[Change]:
    """Recent changes to the tracked models within the user's region, newest first. Needs the
    ``audit.view`` capability (the bureau); anyone else gets an empty list."""
    if not user.is_authenticated or not user.can("audit.view"):
        return []
    # A list of many people's changes always masks ID numbers: a full ID is seen one person at a
    # time, on the person's page, where revealing it is logged.
    full_ids = False
    merged = []
    for model in tracked_models():
        if labels and model._meta.label not in labels:
            continue
        qs = model.history.model.objects.filter(_visible_ids_q(model, user))
        if since is not None:
            qs = qs.filter(history_date__gte=since)
        if actor is not None:
            qs = qs.filter(history_user=actor)
        merged += [(r, model) for r in qs.select_related("history_user").order_by("-history_date", "-history_id")[:limit]]
    merged.sort(key=lambda rm: rm[0].history_date, reverse=True)
    return [_to_change(r, m, full_ids) for r, m in merged[:limit]]
