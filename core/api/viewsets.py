"""The API's base viewset: its rows are ``visible_to(request.user)`` by construction.

NetBox's ``BaseViewSet`` restricts every queryset in one place; this is the same idea. A viewset
says which rows it serves — ``queryset`` or, for joins, annotations and order, ``base_queryset()`` — and
never overrides ``get_queryset``, so a list, a detail, an action's ``get_object()`` and the
filters all start from the caller's region. ``tests/unit/core/test_access_by_construction.py`` walks every API
route and fails on a viewset that is not scoped this way.
"""

from rest_framework import permissions, viewsets

from ..access import Capabilities


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, Capabilities]

    def base_queryset(self):
        """The rows this viewset serves before scoping: override for joins, annotations, order."""
        return self.queryset.all()

    def get_queryset(self):
        # Scoping last: whatever base_queryset() built (a selector may already have scoped it; applying
        # the same filter again changes nothing), the caller sees only their region's rows.
        return self.base_queryset().visible_to(self.request.user)
