"""Leadership reads only; department staff write only their identity lists — on every page and
every API route, discovered from the URL configuration."""

import hashlib

import pytest
from django.test import Client

from core.access import ReadOnlyRolesPermission
from core.choices import Role
from tests.support.route_walk import (  # noqa: F401 - fixtures
    FOREIGN_PK,
    SIBLING_PK,
    build_url,
    fast_password_hashing,
    is_admin,
    is_api,
    post_data,
    project_models,
    request,
    unsafe_sweep,
    walked_routes,
    world,
)

# Routes where a read-only user may legitimately change something: their own account, and for
# department staff the import of their department's identity lists.
OWN_ACCOUNT_ROUTES = {"logout", "password_change", "api_tokens", "login"}
DEPARTMENT_WRITES = {"enrollment:identity_import", "enrollment:identity_import_preview", "identity-list", "identity-import"}
UNTRACKED = {"enrollment.AuditEvent"}  # reads and refusals are logged; that is not a data change


def everything():
    out = {}
    for model in project_models():
        label = model._meta.label
        if label in UNTRACKED:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in ("last_login",)]
        rows = list(model._base_manager.order_by("pk").values_list(*fields))
        out[label] = hashlib.sha256(repr(rows).encode()).hexdigest() + f"/{len(rows)}"
    return out


@pytest.mark.parametrize("role", ["leader", "dept"])
def test_read_only_roles_change_nothing_anywhere(role, users, world):
    user = users[role]
    client = Client(raise_request_exception=False)
    client.force_login(user)
    allowed = OWN_ACCOUNT_ROUTES | (DEPARTMENT_WRITES if role == "dept" else set())

    def refused(route, name, method, url, resp):
        if is_api(route) and 200 <= resp.status_code < 300 and getattr(resp, "renderer_context", None) is not None:
            view = resp.renderer_context.get("view")
            if getattr(view, "read_only_roles_may_post", False):
                return []
            return [f"{method.upper()} {url} [{name}] → {resp.status_code}: a read-only role's write was accepted"]
        return []

    # SIBLING_PK rows are in the user's own county: the ones a careless page would let them change.
    sent, problems = unsafe_sweep(
        client, user, world, pks=(SIBLING_PK, FOREIGN_PK), take_snapshot=everything, skip=allowed, check_response=refused
    )
    assert sent > 10
    assert not problems, "\n".join(problems)


class _View:
    pass


class _Req:
    def __init__(self, method, user):
        self.method, self.user = method, user


@pytest.mark.parametrize(
    "role,method,view_flags,allowed",
    [
        ("leader", "GET", {}, True),
        ("leader", "POST", {}, False),
        ("leader", "DELETE", {}, False),
        ("leader", "POST", {"read_only_roles_may_post": True}, True),
        ("dept", "POST", {}, False),
        ("dept", "PATCH", {}, False),
        ("dept", "POST", {"department_may_write": True}, True),
        ("leader", "POST", {"department_may_write": True}, False),
        ("clerk", "POST", {}, True),
        ("bureau", "DELETE", {}, True),
    ],
)
def test_read_only_roles_permission_rules(users, role, method, view_flags, allowed):
    view = _View()
    for k, v in view_flags.items():
        setattr(view, k, v)
    assert ReadOnlyRolesPermission().has_permission(_Req(method, users[role]), view) is allowed


def test_the_permission_is_a_default_for_every_api_view(settings):
    assert "core.access.ReadOnlyRolesPermission" in settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]
    assert users_roles_are_read_only()


def users_roles_are_read_only():
    from core.models import User

    return User(role=Role.LEADERSHIP).is_read_only and User(role=Role.DEPARTMENT).is_read_only
