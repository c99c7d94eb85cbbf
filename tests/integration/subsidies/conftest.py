import pytest

from tests.factories.subsidies import load_seed_policies


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The users fixture hashes 9 passwords; a fast hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seed_policies(db):
    load_seed_policies()
