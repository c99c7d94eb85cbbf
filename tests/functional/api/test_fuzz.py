"""Fuzz every API operation from the OpenAPI schema with schemathesis: no input makes a 500.

Bounded: a few examples per operation, derandomized (the same cases on every run, so CI is
stable on SQLite and PostgreSQL), through the Django WSGI app inside the test transaction,
authenticated as a county bureau user with an API token.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory

MAX_EXAMPLES = 5


@pytest.fixture
def fuzz_token(users, regions):
    """Some data in the bureau's county so detail and list operations have rows to hit."""
    for village in (regions["v1"], regions["v3"]):
        household = HouseholdFactory(village=village)
        for _ in range(2):
            EnrollmentFactory(person=PersonFactory(household=household))
    return Token.objects.create(user=users["bureau"]).key


def load_schema():
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def test_no_api_input_causes_a_server_error(fuzz_token, settings):
    """Every operation in /api/schema/, a few generated cases each; any 5xx fails the test with
    the operation and the reproducing request in the message."""
    from hypothesis import given

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Like django.test.Client: keep the test's database connection (and its transaction) open
    # across requests; the WSGI handler would otherwise close it after each one on PostgreSQL.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _fuzz_all(fuzz_token)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz_all(fuzz_token):
    from hypothesis import given

    schema = load_schema()
    headers = {"Authorization": f"Token {fuzz_token}"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every failing operation, not just the first
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 5
    assert not failures, "\n\n".join(failures)
