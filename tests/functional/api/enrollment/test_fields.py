"""Every serializer of the API that sends an ID number or a birth date sends it through the
disclosure fields (core.api.fields) — so a new serializer cannot pick its own rule."""

import importlib
import inspect
from pathlib import Path

from rest_framework import serializers

from core.api.fields import DisclosedBirthDateField, DisclosedIdField

ROOT = Path(__file__).resolve().parents[4]
APPS = ("core", "subsidies", "enrollment", "collections_app", "reporting")


def _api_modules() -> list[str]:
    """Every module an API body can live in: ``serializers.py`` and ``api.py`` anywhere in a package
    (collections_app's parts: ``cash/serializers.py``, ``tax_import/api.py``), and all of an ``api/``
    package — found on disk, so a part's new module is checked without being listed here."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts or rel.name == "__init__":
                continue
            if rel.name in ("serializers", "api") or "api" in rel.parts[:-1]:
                found.add(".".join(rel.parts))
    return sorted(found)


API_MODULES = _api_modules()
DISCLOSED = {"id_number": DisclosedIdField, "birth_date": DisclosedBirthDateField}
# Serializers that only read what the caller sends (nothing of a resident goes out through them).
INPUT_ONLY = {"MemberWriteSerializer", "QuoteQuerySerializer"}
# The one place a full number is sent on purpose: POST /api/persons/{id}/reveal/, which checks
# ``id.full`` and records every call (enrollment.services.reveal_id).
REVEAL = {"RevealSerializer"}


def api_serializers():
    for name in API_MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == name and cls.__name__ not in INPUT_ONLY | REVEAL:
                yield cls


def test_every_id_number_and_birth_date_sent_goes_through_the_disclosure_fields():
    seen, wrong = [], []
    for cls in api_serializers():
        for field_name, field in cls().fields.items():
            if field_name in DISCLOSED and not field.write_only:
                seen.append(f"{cls.__name__}.{field_name}")
                if not isinstance(field, DISCLOSED[field_name]):
                    wrong.append(f"{cls.__name__}.{field_name}: {type(field).__name__}")
    assert len(seen) >= 7, seen  # persons, member rows, receipt/declaration/tax-import lines, identities
    assert not wrong, wrong


def test_the_modules_checked_include_every_parts_api_bodies():
    """The walk over the disk finds the modules the API's bodies live in (not an empty list that passes)."""
    for name in (
        "enrollment.api.serializers", "subsidies.api.serializers", "reporting.api.serializers",
        "collections_app.cash.serializers", "collections_app.declarations.serializers",
        "collections_app.refunds.serializers", "collections_app.tax_import.api",
    ):
        assert name in API_MODULES, name
