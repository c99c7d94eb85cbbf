"""Who changed what, when, from what to what: simple_history's tables read for the bureau.

Pages (e.g. enrollment:audit_list, a person's or a policy's history tab) include these lists;
nothing here writes. Scoping: a change is listed when the region its history row was filed under
(the row's own columns, through the parents' history rows when a parent is gone) lies in the
user's region, or when the object is visible to the user today (``visible_to``); unscoped rows
(tiers, category amounts…) go through their parent (policy…). Deleted objects thus keep their
history for the bureau that covered them, and nobody else sees it. ID numbers in before/after
values and birth dates are shown as the disclosure rule says (``core.disclosure``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from . import disclosure
from .scoping import scope_q

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
BIRTH_FIELDS = {"birth_date"}
HIDDEN_FIELDS = {"password", "last_login", "updated_at", "created_at"}


@dataclass
class FieldChange:
    field: str
    label: str
    old: object  # the value as the viewer may know it (a masked ID, a birth year)
    new: object
    old_text: str = ""  # … and as the lists print it (choice labels, 是/否, （空）)
    new_text: str = ""


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
    what: str = ""  # how a list mixing several objects names this one (defaults to object_repr)
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.what or self.object_repr

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


def _parent_fk(model, _walked=frozenset()):
    """The foreign key an unscoped model (tier, category amount…) is scoped through: the first
    one to a model that is itself scoped, directly or through its own parent (never a region or
    a user)."""
    from .models import Region, User

    walked = _walked | {model}
    for f in model._meta.concrete_fields:
        target = f.related_model if f.is_relation else None
        if target is None or target in (Region, User) or target in walked:
            continue
        if hasattr(target, "scope_path") or _parent_fk(target, walked) is not None:
            return f
    return None


def _pk_subqueries(model, user):
    """Subqueries of the pks of ``model`` rows the user's region covers now or covered when a
    history row was written (so rows deleted since, or moved out, still count)."""
    subs = [model._default_manager.filter(_rows_q(model, user, history=False)).values("pk")]
    if hasattr(model, "history"):
        subs.append(model.history.model.objects.filter(_rows_q(model, user, history=True)).values("id"))
    return subs


def _rows_q(model, user, *, history: bool) -> Q:
    """A Q over ``model``'s live table, or over its history table (``history=True``) by each
    history row's own columns, selecting the rows inside the user's region. Fails closed."""
    from .models import Region

    if user.is_superuser:
        return Q()
    path = getattr(model, "scope_path", None)
    if path is not None:
        first, _, rest = path.partition("__")
        parent = model._meta.get_field(first).related_model
        if not history or not rest:
            # Live rows: the model's own ``visible_to``. A history row scoped straight to a region
            # (regions are never deleted): the same rule over the row's own region column.
            return scope_q(model, user)
        if getattr(parent, "scope_path", None) != rest or parent.scope_level != model.scope_level:
            return Q(pk__in=[])  # a path this walk does not understand: fail closed
        q = Q(pk__in=[])
        for sub in _pk_subqueries(parent, user):
            q |= Q(**{f"{first}_id__in": sub})
        return q
    if any(f.name == "region" and f.related_model is Region for f in model._meta.concrete_fields):
        # Users, remittances: filed under a region of any level.
        return Q(region__in=Region.objects.visible_to(user).values("pk"))
    fk = _parent_fk(model)
    if fk is None:
        return Q(pk__in=[])  # fail closed
    q = Q(pk__in=[])
    for sub in _pk_subqueries(fk.related_model, user):
        q |= Q(**{f"{fk.attname}__in": sub})
    return q


def _visible_history_q(model, user) -> Q:
    """A Q over ``model``'s history table: the rows the user may see. A row is listed when the
    region it was filed under at the time (its own columns, through the parents' history) lies in
    the user's region, or when the object as it stands today is visible. So a person deleted, or
    moved to another county, keeps their history where they were; another county sees none of it."""
    if user.is_superuser:
        return Q()
    return _rows_q(model, user, history=True) | Q(
        id__in=model._default_manager.filter(_rows_q(model, user, history=False)).values("pk")
    )


EMPTY = "（空）"


def _shown(value, field_name: str, shown: disclosure.Disclosure):
    """A value as the viewer may know it: ID numbers and birth dates as the disclosure rule allows."""
    if field_name in ID_FIELDS and isinstance(value, str):
        return shown.id_number(value)
    if field_name in BIRTH_FIELDS and isinstance(value, date) and shown.birth_date(value) is None:
        return shown.birth_text(value)
    return value


def show_value(model, field_name: str, value, shown: disclosure.Disclosure) -> str:
    """A before/after value as every history list prints it: choices by their label, ID numbers and
    birth dates as the disclosure rule allows, booleans as 是/否, nothing as （空）."""
    value = _shown(value, field_name, shown)
    if value in (None, ""):
        return EMPTY
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.year}年{value.month}月{value.day}日"
    try:
        f = model._meta.get_field(field_name)
    except Exception:
        f = None
    if f is not None and f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _diff(record, prev, shown: disclosure.Disclosure) -> list[FieldChange]:
    if prev is None:
        return []
    model = record.instance_type
    return [
        FieldChange(c.field, _field_label(model, c.field), _shown(c.old, c.field, shown), _shown(c.new, c.field, shown),
                    show_value(model, c.field, c.old, shown), show_value(model, c.field, c.new, shown))
        for c in record.diff_against(prev).changes
        if c.field not in HIDDEN_FIELDS
    ]


def _object_repr(record) -> str:
    """What the row was, from the history row itself (so a deleted object still reads as the
    person or household it was); models' ``__str__`` show masked ID numbers only."""
    try:
        return str(record.instance)
    except ObjectDoesNotExist:  # __str__ reaches a related row deleted since
        return f"#{record.id}"


def _to_change(record, model, shown: disclosure.Disclosure, *, prev=None, what: str = "") -> Change:
    who = record.history_user.display_name if getattr(record, "history_user", None) else "系统"
    if record.history_type == "~" and prev is None:
        prev = record.prev_record
    return Change(
        at=record.history_date,
        who=who,
        kind=record.history_type,
        model=str(model._meta.verbose_name),
        label=model._meta.label,
        object_id=record.id,
        object_repr=what or _object_repr(record),  # a list that names its rows needs no __str__ (a query each)
        reason=getattr(record, "history_change_reason", "") or "",
        what=what,
        changes=_diff(record, prev, shown) if record.history_type == "~" else [],
    )


def changes_of(records, *, shown: disclosure.Disclosure, what=None, limit: int | None = None) -> list[Change]:
    """History records (of any tracked models, newest first) as the lists show them.

    A change's predecessor is taken from the records at hand when it is among them (no query per
    record), else read. ``what(record)`` names the change for a list that mixes several objects
    (a household's members, a policy's tiers); by default the object itself.
    """
    records = list(records)
    previous: dict = {}
    last_seen: dict = {}
    for r in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        key = (r.instance_type, r.id)
        previous[(key, r.history_id)] = last_seen.get(key)
        last_seen[key] = r
    shown_records = records if limit is None else records[:limit]
    return [
        _to_change(r, r.instance_type, shown, prev=previous.get(((r.instance_type, r.id), r.history_id)),
                   what=what(r) if what else "")
        for r in shown_records
    ]


def object_history(obj, *, user, limit: int = 100) -> list[Change]:
    """The changes of one object, newest first (empty if the user may not see it)."""
    model = type(obj)
    if not hasattr(model, "history"):
        return []
    records = model.history.model.objects.filter(id=obj.pk).filter(_visible_history_q(model, user))
    records = records.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
    return changes_of(records, shown=disclosure.for_viewer(user))


class ChangeLog:
    """The tracked models' changes merged newest first, read lazily: ``len()`` counts and a slice
    loads only that window, so a ``Paginator`` pages it like a queryset."""

    def __init__(self, sources, *, shown: disclosure.Disclosure):
        self._sources = [(qs.order_by("-history_date", "-history_id"), model) for qs, model in sources]
        self._shown = shown

    def count(self) -> int:
        return sum(qs.count() for qs, _ in self._sources)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if isinstance(key, int):
            return self[key:key + 1][0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            stop = self.count()
        if stop <= start:
            return []
        # Merge the first ``stop`` (date, id) keys of every model, keep the window, then load it.
        keys = []
        for i, (qs, model) in enumerate(self._sources):
            keys += [(at, model._meta.label, hid, i) for hid, at in qs.values_list("history_id", "history_date")[:stop]]
        keys.sort(reverse=True)
        window = keys[start:stop]
        wanted = {}
        for _, _, hid, i in window:
            wanted.setdefault(i, []).append(hid)
        rows = {}
        for i, ids in wanted.items():
            historical = self._sources[i][1].history.model  # ids already scoped above
            rows.update(((i, r.history_id), r) for r in historical.objects.filter(history_id__in=ids).select_related("history_user"))
        return [_to_change(rows[(i, hid)], self._sources[i][1], self._shown) for _, _, hid, i in window]


def change_log(*, user, labels=None, since=None, actor=None) -> ChangeLog:
    """Changes to the tracked models within the user's region, newest first, deleted objects'
    included. Needs the ``audit.view`` capability (the bureau); anyone else gets an empty log.
    ``labels``: "app_label.ModelName" to keep; ``since``: an aware datetime; ``actor``: a user."""
    if not user.is_authenticated or not user.can("audit.view"):
        return ChangeLog([], shown=disclosure.MASKED)
    sources = []
    for model in tracked_models():
        if labels and model._meta.label not in labels:
            continue
        qs = model.history.model.objects.filter(_visible_history_q(model, user))
        if since is not None:
            qs = qs.filter(history_date__gte=since)
        if actor is not None:
            qs = qs.filter(history_user=actor)
        sources.append((qs, model))
    # A list of many people's changes always masks ID numbers: a full ID is seen one person at a
    # time, on the person's page, where revealing it is logged.
    return ChangeLog(sources, shown=disclosure.for_viewer(user, full_ids=None))


def recent_changes(*, user, limit: int = 100, labels=None, since=None, actor=None) -> list[Change]:
    """The newest ``limit`` entries of ``change_log`` (same scoping, capability and masking)."""
    return change_log(user=user, labels=labels, since=since, actor=actor)[:limit]


def model_choices():
    """(label, verbose name) of the tracked models, for a filter."""
    return [(m._meta.label, str(m._meta.verbose_name)) for m in tracked_models()]


def model_verbose_name(label: str) -> str:
    """The verbose name of "app_label.ModelName" (the label itself for anything else)."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label
