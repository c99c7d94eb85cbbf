"""API tokens end with the password they were made under and while axes locks the account out;
failed token authentication and the API as a whole are throttled, at limits a county's real load
never reaches."""

import re
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from config.views import MSG_PASSWORD_CHANGED
from core.models import AuditEvent, User
from core.tokens import (
    ACTION_TOKEN_REVOKE,
    ERR_TOKEN_FAILURES,
    ERR_TOKEN_LOCKED_OUT,
    ERR_TOKEN_PASSWORD_CHANGED,
    REASON_LOCKED_OUT,
    REASON_PASSWORD_CHANGED,
)

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123456"  # what tests.factories.UserFactory sets
NEW_PASSWORD = "another-pass-7890"
API = "/api/persons/"


def call(token_key, client=None, **extra):
    return (client or Client()).get(API, HTTP_AUTHORIZATION=f"Token {token_key}", **extra)


def refused(resp) -> bool:
    """401/403: DRF answers 403 when its first authentication class (the session's) sends no
    WWW-Authenticate header."""
    return resp.status_code in (401, 403)


def revocations(user):
    return AuditEvent.objects.filter(action=ACTION_TOKEN_REVOKE, object_id=str(user.pk))


# --- Password changes ------------------------------------------------------------------------------
def test_the_users_own_password_change_ends_the_token(users):
    clerk = users["clerk"]
    key = Token.objects.create(user=clerk).key
    assert call(key).status_code == 200
    client = Client()
    client.force_login(clerk)
    resp = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert MSG_PASSWORD_CHANGED in resp.content.decode()
    assert not Token.objects.filter(user=clerk).exists()
    event = revocations(clerk).get()
    assert event.actor == clerk and event.detail["reason"] == REASON_PASSWORD_CHANGED
    assert event.region == clerk.county  # the bureau's audit page shows it
    assert refused(call(key))


@pytest.fixture
def admin_form(users):
    """(client logged in as a superuser, that superuser, the clerk's token key, the admin's
    password form for the clerk)."""
    admin_user = User.objects.create_superuser("root", "root@example.invalid", PASSWORD)
    client = Client()
    client.force_login(admin_user)
    key = Token.objects.create(user=users["clerk"]).key
    return client, admin_user, key, reverse("admin:auth_user_password_change", args=[users["clerk"].pk])


def test_an_admin_reset_ends_the_token(users, admin_form):
    clerk = users["clerk"]
    client, admin_user, key, url = admin_form
    resp = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"})
    assert resp.status_code == 302
    assert not Token.objects.filter(user=clerk).exists()
    assert revocations(clerk).get().actor == admin_user
    assert refused(call(key))


def test_an_admin_form_that_changes_nothing_keeps_the_token(users, admin_form):
    clerk = users["clerk"]
    client, _, key, url = admin_form
    assert client.post(url, {"password1": NEW_PASSWORD, "password2": "does-not-match-1"}).status_code == 200
    assert call(key).status_code == 200 and not revocations(clerk).exists()


def test_the_changepassword_command_ends_the_token(users):
    """A path that revokes nothing itself: the token is refused at its next use, and revoked then."""
    clerk = users["clerk"]
    key = Token.objects.create(user=clerk).key
    with mock.patch("django.contrib.auth.management.commands.changepassword.Command._get_pass", return_value=NEW_PASSWORD):
        call_command("changepassword", "clerk", stdout=mock.MagicMock())
    resp = call(key)
    assert refused(resp) and resp.json() == {"detail": ERR_TOKEN_PASSWORD_CHANGED}
    assert not Token.objects.filter(user=clerk).exists()
    event = revocations(clerk).get()
    assert event.actor is None and event.region == clerk.county and event.detail["reason"] == REASON_PASSWORD_CHANGED


def test_any_set_password_ends_the_token(users):
    clerk = users["clerk"]
    key = Token.objects.create(user=clerk).key
    clerk.set_password(NEW_PASSWORD)
    clerk.save(update_fields=["password"])  # password_changed is saved with it
    assert refused(call(key))


def test_a_token_made_after_the_change_works(users):
    clerk = users["clerk"]
    clerk.set_password(NEW_PASSWORD)
    clerk.save()
    assert call(Token.objects.create(user=clerk).key).status_code == 200


class OneIteration(PBKDF2PasswordHasher):
    iterations = 1


class TwoIterations(PBKDF2PasswordHasher):
    iterations = 2


def test_a_hash_upgrade_at_login_is_not_a_password_change(users, settings):
    clerk = users["clerk"]
    settings.PASSWORD_HASHERS = [f"{__name__}.OneIteration"]
    clerk.set_password(PASSWORD)
    clerk.save()
    key = Token.objects.create(user=clerk).key
    settings.PASSWORD_HASHERS = [f"{__name__}.TwoIterations"]
    assert Client().post(reverse("login"), {"username": "clerk", "password": PASSWORD}).status_code == 302
    clerk.refresh_from_db()
    assert clerk.password.startswith("pbkdf2_sha256$2$")  # upgraded…
    assert call(key).status_code == 200  # …and the token still works


# --- Lock-out ------------------------------------------------------------------------------------------
def lock_out(username):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "wrong-password-1"})


def test_a_lockout_ends_the_token_and_refuses_new_ones_while_it_lasts(users):
    clerk = users["clerk"]
    key = Token.objects.create(user=clerk).key
    lock_out("clerk")
    assert not Token.objects.filter(user=clerk).exists()
    event = revocations(clerk).get()
    assert event.actor is None and event.detail["reason"] == REASON_LOCKED_OUT and event.region == clerk.county
    assert refused(call(key))
    # A token made while locked (say, logged in from another address) is refused as well.
    resp = call(Token.objects.create(user=clerk).key)
    assert refused(resp) and resp.json() == {"detail": ERR_TOKEN_LOCKED_OUT}
    # Another account's token is untouched.
    assert call(Token.objects.create(user=users["bureau"]).key).status_code == 200


def test_the_token_works_again_after_the_lockout_is_lifted(users):
    from axes.utils import reset

    lock_out("clerk")
    reset(username="clerk")
    assert call(Token.objects.create(user=users["clerk"]).key).status_code == 200


def test_failures_below_the_limit_keep_the_token(users):
    key = Token.objects.create(user=users["clerk"]).key
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "clerk", "password": "wrong-password-1"})
    assert call(key).status_code == 200


# --- Throttling ------------------------------------------------------------------------------------------
def test_throttling_is_on_for_every_api_view():
    classes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert any("AnonRateThrottle" in c for c in classes) and any("UserRateThrottle" in c for c in classes)
    assert set(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) >= {"anon", "user", "token_failure"}


def test_300_wrong_tokens_from_one_address_hit_429(users):
    client = Client()
    codes = [call(f"{i:040x}", client).status_code for i in range(300)]
    assert 429 in codes
    first = codes.index(429)
    assert set(codes[:first]) <= {401, 403} and set(codes[first:]) == {429}
    resp = call("0" * 40, client)
    assert resp.status_code == 429 and ERR_TOKEN_FAILURES in resp.json()["detail"] and "Retry-After" in resp
    # Blocked: even a good token from that address waits (guessing must not learn which key is good)…
    good = Token.objects.create(user=users["clerk"]).key
    assert call(good, client).status_code == 429
    # …while other addresses, and session users at that address, carry on.
    assert call(good, client, REMOTE_ADDR="10.1.2.3").status_code == 200
    session = Client()
    session.force_login(users["clerk"])
    assert session.get(API).status_code == 200


@pytest.mark.parametrize("url", ["/api/quote/options/", "/api/quote/?county=411325&year=2025"])
def test_200_anonymous_calculator_calls_see_429(db, url):
    """From one address, whatever X-Forwarded-For the client makes up (only the county's proxy's
    entry counts, NUM_PROXIES)."""
    client = Client()
    codes = [client.get(url, HTTP_X_FORWARDED_FOR=f"10.0.{i // 250}.{i % 250}").status_code for i in range(200)]
    assert 429 in codes and 429 not in codes[:100]
    assert re.search(r"[\u4e00-\u9fff]", client.get(url).json()["detail"])


def test_every_api_view_is_throttled_per_user(users):
    from rest_framework.throttling import UserRateThrottle

    client = Client()
    client.force_login(users["clerk"])
    with mock.patch.object(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "5/min"}):
        codes = [client.get(API).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_a_countys_peak_behind_one_address_never_sees_429(users, regions):
    """40 township clerks' and collectors' sessions behind one NAT address, each making a page's
    worth of API calls, plus one account polling a tax import every second for two minutes: the
    limits are per account, and no account comes near its own."""
    from core.choices import Role
    from tests.factories import UserFactory

    codes = []
    for i in range(40):
        user = UserFactory(username=f"peak{i}", role=Role.COLLECTOR, region=regions["v1"])
        client = Client(REMOTE_ADDR="10.9.9.9")
        client.force_login(user)
        codes += [client.get(API).status_code for _ in range(5)]
    poller = Client(REMOTE_ADDR="10.9.9.9")
    poller.force_login(users["tax"])
    codes += [poller.get("/api/imports/").status_code for _ in range(120)]
    token_client = Client(REMOTE_ADDR="10.9.9.9")
    key = Token.objects.create(user=users["bureau"]).key
    codes += [call(key, token_client).status_code for _ in range(60)]
    assert 429 not in codes and set(codes) <= {200}
