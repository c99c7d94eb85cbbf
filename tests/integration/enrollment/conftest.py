import pytest

from tests.factories.subsidies import load_seed_policies


@pytest.fixture
def seed_policies(db):
    """The five counties' policies from the seeds (what a resident owes is read against them)."""
    load_seed_policies()
