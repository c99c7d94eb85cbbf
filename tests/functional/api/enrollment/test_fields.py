"""Every serializer of the API that sends an ID number or a birth date sends it through the
disclosure fields (core.api.fields) — so a new serializer cannot pick its own rule."""

import importlib
import inspect

from rest_framework import serializers

from core.api.fields import DisclosedBirthDateField, DisclosedIdField

API_MODULES = (
    "enrollment.api.serializers",
    "collections_app.api.serializers",
    "collections_app.tax_import.api",
    "subsidies.api.serializers",
    "reporting.api.serializers",
)
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
