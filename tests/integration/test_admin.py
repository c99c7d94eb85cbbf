"""The Django admin: every project model is registered, scoped like every page, and money and
reporting records are read-only.

Who may enter: ``is_staff`` users with Django model permissions (granted by a superuser). No
role makes a user staff (``enrollment/demo.py``; ``test_admin_is_staff_only`` walks the admin as
non-staff users of each role), so the staff users here are made staff explicitly.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collections_app.models import DoubleLimitBreach, ReceiptLine
from core.admin import ReadOnlyAdmin, ScopedAdmin
from enrollment.models import HouseholdNotice
from tests.factories.collections import household_with, make_policy, pay
from tests.factories.enrollment import HouseholdNoticeFactory
from tests.support.route_walk import (  # noqa: F401 - world and its fixtures
    FOREIGN_PK,
    SIBLING_PK,
    body_text,
    fast_password_hashing,
    forbidden_for,
    project_models,
    world,
)

pytestmark = pytest.mark.django_db

# Money records and reporting records: never added, edited or deleted in the admin.
READ_ONLY = {
    "collections_app.Receipt",
    "collections_app.ReceiptLine",
    "collections_app.ReceiptCounter",
    "collections_app.Remittance",
    "collections_app.DoubleLimitBreach",
    "collections_app.DailyLedger",
    "collections_app.Declaration",
    "collections_app.DeclarationLine",
    "collections_app.PublicityPosting",
    "collections_app.Refund",
    "collections_app.TaxImport",
    "collections_app.TaxImportRow",
    "enrollment.AuditEvent",
    *(f"reporting.{m.__name__}" for m in apps.get_app_config("reporting").get_models() if not m.__name__.startswith("Historical")),
}


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def make_staff(user, *models, actions=("view",)):
    user.is_staff = True
    user.save()
    for model in models:
        for action in actions:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=model._meta.app_label, codename=f"{action}_{model._meta.model_name}")
            )
    return user


def client_for(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def money(users, regions):
    """Receipts, a notice and a double-limit breach in both townships of the county."""
    make_policy(regions["county"])
    rows = {}
    for key, village, collector in (("own", regions["v1"], users["collector"]), ("other", regions["v3"], users["collector3"])):
        hh, members = household_with(village, 1)
        receipt = pay(collector, hh, members)
        now = timezone.now()
        rows[key] = {
            "receipt": receipt,
            "line": receipt.lines.first(),
            "notice": HouseholdNoticeFactory(household=hh, note=f"{key}-notice"),
            "breach": DoubleLimitBreach.objects.create(
                collector=collector, region=village, first_seen=now, last_seen=now,
                amount=Decimal("12345.00"), oldest=date(2024, 10, 1),
            ),
        }
    return rows


def test_every_project_model_is_registered_and_scoped():
    missing = [m._meta.label for m in project_models() if not admin.site.is_registered(m)]
    assert not missing, missing
    unscoped = [m._meta.label for m in project_models() if not isinstance(admin.site.get_model_admin(m), ScopedAdmin)]
    assert not unscoped, unscoped
    read_only = {m._meta.label for m in project_models() if isinstance(admin.site.get_model_admin(m), ReadOnlyAdmin)}
    assert READ_ONLY <= read_only, READ_ONLY - read_only


@pytest.mark.parametrize(
    "model, key, shown",
    [
        (HouseholdNotice, "notice", lambda row: row.note),
        (ReceiptLine, "line", lambda row: row.receipt.number),
        (DoubleLimitBreach, "breach", lambda row: row.collector.username),
    ],
)
def test_township_staff_see_only_their_township(model, key, shown, users, money):
    client = client_for(make_staff(users["clerk"], model))
    own, other = money["own"][key], money["other"][key]

    listing = client.get(url(model, "changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [own]
    assert shown(own) in listing.text and shown(other) not in listing.text

    assert client.get(url(model, "change", own.pk)).status_code == 200
    for view in ("change", "history", "delete"):
        assert client.get(url(model, view, other.pk)).status_code in (403, 404), view


def test_staff_without_a_region_see_nothing(users, money):
    client = client_for(make_staff(users["nobody"], HouseholdNotice))
    assert list(client.get(url(HouseholdNotice, "changelist")).context["cl"].result_list) == []


def test_foreign_keys_offer_and_accept_only_the_users_region(users, money):
    """A notice cannot be moved onto another township's household, by dropdown or by typed id."""
    client = client_for(make_staff(users["clerk"], HouseholdNotice, actions=("view", "change")))
    notice = money["own"]["notice"]
    other_household = money["other"]["notice"].household
    resp = client.post(
        url(HouseholdNotice, "change", notice.pk),
        {"household": other_household.pk, "year": notice.year + 1, "note": "moved"},
    )
    assert resp.status_code == 200 and "household" in resp.context["adminform"].form.errors
    notice.refresh_from_db()
    assert notice.household != other_household and notice.note == "own-notice"


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_money_and_reporting_admins_refuse_add_change_delete(label, users, rf):
    model = apps.get_model(label)
    model_admin = admin.site.get_model_admin(model)
    superuser = users["bureau"]
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    request = rf.get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)
    client = client_for(superuser)
    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "add"), {}).status_code == 403


def test_money_rows_cannot_be_changed_or_deleted_even_by_a_superuser(users, money):
    superuser = users["bureau"]
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    client = client_for(superuser)
    line = money["own"]["line"]
    before = ReceiptLine.objects.filter(pk=line.pk).values().get()
    page = client.get(url(ReceiptLine, "change", line.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert client.post(url(ReceiptLine, "change", line.pk), {"amount": "0.00", "name": "x"}).status_code == 403
    assert client.post(url(ReceiptLine, "delete", line.pk), {"post": "yes"}).status_code == 403
    assert ReceiptLine.objects.filter(pk=line.pk).values().get() == before


def test_staff_cannot_grant_themselves_admin_powers(users):
    from core.models import User

    clerk = make_staff(users["clerk"], User, actions=("view", "change"))
    page = client_for(clerk).get(url(User, "change", clerk.pk))
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.text and 'name="user_permissions"' not in page.text


def test_staff_add_accounts_only_inside_their_region(users, regions):
    from core.models import User

    client = client_for(make_staff(users["clerk"], User, actions=("view", "add", "change")))
    form = {"username": "new_collector", "password1": "Canbao-Pass-2025!", "password2": "Canbao-Pass-2025!",
            "usable_password": "true", "role": "collector"}
    refused = client.post(url(User, "add"), {**form, "region": regions["v3"].pk})
    assert refused.status_code == 200 and "region" in refused.context["adminform"].form.errors
    assert client.post(url(User, "add"), {**form, "region": regions["v1"].pk}).status_code == 302
    assert User.objects.get(username="new_collector").region == regions["v1"]


def test_every_admin_page_hides_other_regions(users, world):  # noqa: F811 - the imported fixture
    """A township clerk who is staff with every permission on every project model: changelists,
    add forms and the change/history pages of the rows planted in the other county and the
    sibling township show none of their data (another region's row is a 404)."""
    clerk = users["clerk"]
    models = list(project_models())
    make_staff(clerk, *models, actions=("view", "add", "change", "delete"))
    client = client_for(clerk)
    forbidden = forbidden_for(world, township_level=True, public=False)
    problems = []

    def check(address, resp, allowed=(200,)):
        if resp.status_code not in allowed:
            problems.append(f"{address} → {resp.status_code}")
            return
        if resp.status_code == 200:
            text = body_text(resp)
            leaked = [s for s in forbidden if s in text]
            if leaked:
                problems.append(f"{address} shows {leaked[:3]}")

    for model in models:
        model_admin = admin.site.get_model_admin(model)
        check(url(model, "changelist"), client.get(url(model, "changelist")))
        check(url(model, "changelist") + "?q=禁", client.get(url(model, "changelist") + "?q=禁"))
        if not isinstance(model_admin, ReadOnlyAdmin):
            check(url(model, "add"), client.get(url(model, "add")))
        visible = set(model_admin.get_queryset(_request(clerk)).values_list("pk", flat=True))
        for pk in (FOREIGN_PK, SIBLING_PK):
            for view in ("change", "history"):
                address = url(model, view, pk)
                check(address, client.get(address), allowed=(200,) if pk in visible else (404,))
    assert not problems, "\n".join(problems)


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


def test_every_admin_page_opens_for_a_superuser(users, world):  # noqa: F811 - the imported fixture
    superuser = users["bureau"]
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    client = client_for(superuser)
    problems = []
    for model in project_models():
        addresses = [url(model, "changelist"), url(model, "add")]
        addresses += [url(model, view, FOREIGN_PK) for view in ("change", "history", "delete")]
        for address in addresses:
            status = client.get(address).status_code
            if status >= 500 or status == 404:
                problems.append(f"{address} → {status}")
    assert not problems, "\n".join(problems)
