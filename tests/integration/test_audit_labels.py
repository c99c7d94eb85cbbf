"""core.audit: every action code recorded anywhere has a Chinese label."""

from collections_app.tax_import.services import AUDIT_ACTION as TAX_IMPORT
from config.tokens import ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE
from core import audit


def test_every_recorded_action_has_a_label():
    codes = {audit.ACTION_VIEW_FULL_ID, audit.ACTION_EXPORT, audit.ACTION_IMPORT, audit.ACTION_CARRY_OVER,
             TAX_IMPORT, ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE}
    assert codes <= set(audit.ACTION_LABELS)
    assert all(audit.action_label(c) != c for c in codes)


def test_an_unknown_code_reads_as_itself():
    assert audit.action_label("something_new") == "something_new"
