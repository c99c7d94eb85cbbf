"""Scoping by construction: every API view that serves rows is a ScopedViewSet whose
get_queryset is the base's, and no page or API module looks an object up but through
``visible_or_404``.

The route walk (tests/functional/test_every_route.py, harness in tests/support/route_walk.py) proves the outcome for the users it tries;
these prove the shape that makes an omission impossible for the next viewset or page."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.generics import GenericAPIView
from rest_framework.test import APIRequestFactory

from collections_app.cash.api import ReceiptViewSet
from collections_app.models import Receipt
from core.api.viewsets import ScopedViewSet
from core.scoping import visible_or_404
from enrollment.models import Household
from tests.factories import HouseholdFactory

ROOT = Path(__file__).resolve().parents[3]
APPS = ["core", "subsidies", "enrollment", "collections_app", "reporting", "config"]


def _views(resolver=None):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _views(p)
        elif isinstance(p, URLPattern):
            cls = getattr(p.callback, "cls", None)
            if cls is not None:
                yield str(p.pattern), cls


def _serves_rows(cls) -> bool:
    return cls.queryset is not None or cls.get_queryset is not GenericAPIView.get_queryset


def test_every_api_view_with_rows_is_scoped_by_its_base():
    seen, wrong = set(), []
    for route, cls in _views():
        if not issubclass(cls, GenericAPIView) or not _serves_rows(cls) or cls in seen:
            continue
        seen.add(cls)
        if not issubclass(cls, ScopedViewSet) or cls.get_queryset is not ScopedViewSet.get_queryset:
            wrong.append(f"{cls.__module__}.{cls.__name__} ({route})")
    assert len(seen) >= 10, "the walk found too few viewsets to mean anything"
    assert not wrong, "serves rows without ScopedViewSet's get_queryset: " + ", ".join(wrong)


def _routed_modules() -> set[str]:
    """The module of every view a URL reaches (function or class), wherever it lives."""

    def walk(resolver):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p)
            elif isinstance(p, URLPattern):
                cls = getattr(p.callback, "cls", None)
                yield (cls or p.callback).__module__

    return set(walk(get_resolver()))


def _view_modules():
    """Page and API modules: by name (views, api, urls, serializers; all of a views/ or api/ package,
    collections_app's parts' ``cash/api.py`` too) and every module a route's view lives in."""
    routed = _routed_modules()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            named = rel.stem in ("views", "api", "urls", "serializers")
            if named or "views" in rel.parts[:-1] or "api" in rel.parts[:-1] or ".".join(rel.with_suffix("").parts) in routed:
                yield rel, path


def test_the_module_walk_covers_every_routed_view_and_api_body():
    walked = {".".join(rel.with_suffix("").parts) for rel, _ in _view_modules()}
    routed = {m for m in _routed_modules() if m.split(".", 1)[0] in APPS}
    assert routed <= walked, routed - walked
    for name in ("collections_app.cash.api", "collections_app.cash.serializers", "collections_app.declarations.api",
                 "collections_app.refunds.serializers", "collections_app.api.errors", "collections_app.tax_import.api"):
        assert name in walked, name


def test_pages_and_api_look_objects_up_only_through_visible_or_404():
    wrong = []
    for rel, path in _view_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and any(a.name == "get_object_or_404" for a in node.names):
                wrong.append(f"{rel}:{node.lineno}")
    assert not wrong, "get_object_or_404 in a page or API module (use core.scoping.visible_or_404): " + ", ".join(wrong)


@pytest.mark.django_db
def test_visible_or_404_answers_another_regions_row_as_missing(regions, users):
    own = HouseholdFactory(village=regions["v1"])
    other = HouseholdFactory(village=regions["v3"])
    assert visible_or_404(users["collector"], Household, pk=own.pk) == own
    assert visible_or_404(users["collector"], Household.objects.select_related("village"), pk=own.pk) == own
    with pytest.raises(Http404):
        visible_or_404(users["collector"], Household, pk=other.pk)
    with pytest.raises(Http404):
        visible_or_404(users["nobody"], Household, pk=own.pk)


@pytest.mark.django_db
def test_a_base_queryset_that_forgets_the_scope_is_scoped_anyway(regions, users):
    class Forgetful(ReceiptViewSet):
        def base_queryset(self):
            return Receipt.objects.all()  # no visible_to: the base adds it

    view = Forgetful()
    view.request = APIRequestFactory().get("/")
    view.request.user = users["collector"]
    assert str(Receipt.objects.visible_to(users["collector"]).query) == str(view.get_queryset().query)


def test_pages_and_api_write_no_audit_event_themselves():
    """Audit events are written where the change or the disclosure is made — a service, an export
    builder, ``disclosure.show_ids`` — so the page and the API path of one action log it once
    without either having to remember."""
    wrong = []
    for rel, path in _view_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("record", "record_export"):
                if isinstance(node.func.value, ast.Name) and node.func.value.id == "audit":
                    wrong.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("audit"):
                wrong.append(f"{rel}:{node.lineno} (imports from audit)")
    assert not wrong, "audit events written in a page or API module: " + ", ".join(wrong)
