"""Region scoping, written once.

Every scoped model declares ``scope_path``, the lookup from the model to a Region, and
``scope_level``, the level of that Region. ``Model.objects.visible_to(user)`` then returns
what the user's region covers: county users their county, township users their township,
village users their village; a user bound to no region sees nothing (fail closed).

Pages, API viewsets, exports, reports and Celery jobs all go through ``visible_to``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404

from .choices import RegionLevel

LEVEL_DEPTH = {RegionLevel.COUNTY: 0, RegionLevel.TOWNSHIP: 1, RegionLevel.VILLAGE: 2}

ERR_OUT_OF_SCOPE = "您无权查看或修改其他地区的数据。"


def scope_q(model, user, *, ancestors_visible: bool | None = None, path: str | None = None) -> Q:
    """A Q object restricting ``model`` rows to ``user``'s region.

    Objects that belong to a level above the user (e.g. a county's policy year seen by a
    township clerk) are visible only when the model sets ``scope_ancestors_visible``. ``path``
    scopes by another region of the row, at the same level (a transfer's holding village, where
    ``scope_path`` is its receiving one).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    region = getattr(user, "region", None)
    if region is None:
        return Q(pk__in=[])
    path = path or model.scope_path
    obj_depth = LEVEL_DEPTH[model.scope_level]
    user_depth = LEVEL_DEPTH[region.level]
    if ancestors_visible is None:
        ancestors_visible = getattr(model, "scope_ancestors_visible", False)
    if obj_depth >= user_depth:
        # Walk up from the object's region to the user's level.
        lookup = path + "__parent" * (obj_depth - user_depth)
        return Q(**{f"{lookup}_id": region.pk})
    if not ancestors_visible:
        return Q(pk__in=[])
    # The object sits above the user: visible if it is the user's own ancestor.
    ancestor = region
    for _ in range(user_depth - obj_depth):
        ancestor = ancestor.parent
    return Q(**{f"{path}_id": ancestor.pk})


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(scope_q(self.model, user))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]  # a class built at run time
    pass


def visible_or_404(user, rows, **lookup):
    """The one row matching ``lookup`` among ``rows`` (a scoped model or a queryset of one) that
    ``user`` may see; 404 otherwise — a row of another region answers as one that does not exist.
    Pages and API actions fetch every object through this, so no lookup forgets the scope."""
    queryset = rows._default_manager.all() if isinstance(rows, type) else rows
    return get_object_or_404(queryset.visible_to(user), **lookup)


def ensure_visible(user, obj) -> None:
    """Raise PermissionDenied unless ``obj`` is inside ``user``'s region (for writes)."""
    model = type(obj)
    if not model._default_manager.filter(pk=obj.pk).filter(scope_q(model, user)).exists():
        raise PermissionDenied(ERR_OUT_OF_SCOPE)


def ensure_region_visible(user, region) -> None:
    """Raise PermissionDenied unless ``region`` (any level) lies inside ``user``'s region."""
    if not region_in_scope(user, region):
        raise PermissionDenied(ERR_OUT_OF_SCOPE)


def region_in_scope(user, region) -> bool:
    """Whether a Region (any level) lies inside the user's region."""
    from .models import Region

    return Region.objects.visible_to(user).filter(pk=region.pk).exists()
