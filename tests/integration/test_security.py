"""Access controls: lock-out, passwords, sessions, secure settings, CSP, CSRF, API tokens."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.tokens import ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE
from core.models import AuditEvent
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123456"  # what tests.factories.UserFactory sets


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Lock-out -------------------------------------------------------------------------------
def test_lockout_after_five_failures_even_with_the_right_password(users):
    client = Client()
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        resp = client.post(url, {"username": "clerk", "password": "wrong-password-1"})
        assert "_auth_user_id" not in client.session
    resp = client.post(url, {"username": "clerk", "password": PASSWORD})
    assert resp.status_code in (403, 429)
    assert "锁定" in resp.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked (lock-out is per username + address).
    resp = client.post(url, {"username": "bureau", "password": PASSWORD})
    assert resp.status_code == 302 and "_auth_user_id" in client.session


def test_a_success_before_the_limit_resets_the_count(users):
    client = Client()
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(url, {"username": "clerk", "password": "wrong-password-1"})
    assert client.post(url, {"username": "clerk", "password": PASSWORD}).status_code == 302


def test_lockout_settings():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AUTHENTICATION_BACKENDS[0].startswith("axes.")


# --- Passwords ---------------------------------------------------------------------------------
@pytest.mark.parametrize("weak", ["short1", "1234567890123", "password123", "qwertyuiop", "abc"])
def test_weak_passwords_are_refused(weak, users):
    with pytest.raises(ValidationError):
        validate_password(weak, user=users["clerk"])


def test_a_strong_password_is_accepted(users):
    validate_password("Xiang-zhen-2025-cb!", user=users["clerk"])


# --- Sessions ---------------------------------------------------------------------------------------
def test_session_expires_after_thirty_minutes_of_inactivity(client, users):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY
    client.force_login(users["clerk"])
    assert client.get(reverse("home")).status_code == 200
    # 31 minutes without a request: the stored session has expired.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timezone.timedelta(minutes=1)
    )
    resp = client.get(reverse("home"))
    assert resp.status_code == 302 and reverse("login") in resp["Location"]


def test_each_request_extends_the_session(client, users):
    client.force_login(users["clerk"])
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timezone.timedelta(minutes=5))
    client.get(reverse("home"))
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timezone.timedelta(minutes=25)


# --- Settings with DEBUG off --------------------------------------------------------------------------
def _settings_in_production(extra_env=None, code=""):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "canbao.example.org", "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s; " + code],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )


def test_secure_cookies_hsts_and_ssl_redirect_when_debug_is_off():
    out = _settings_in_production(
        code="print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "31536000", "True", "True", "True", "DENY"]


def test_debug_off_without_secret_key_refuses_to_start():
    out = _settings_in_production({"SECRET_KEY": ""}, code="print('started')")
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr


def test_deploy_check_has_no_security_warnings():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG",)}
    env.update({"DEBUG": "0", "SECRET_KEY": "k" * 30 + "Q9!z" * 10, "ALLOWED_HOSTS": "canbao.example.org"})
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=120,
    )
    text = out.stdout + out.stderr
    for code in ("W004", "W008", "W009", "W012", "W016", "W018", "W019", "W020"):
        assert f"security.{code}" not in text, text


# --- Content-Security-Policy and templates --------------------------------------------------------
def _script_src(csp: str) -> str:
    for part in csp.split(";"):
        if part.strip().startswith("script-src"):
            return part
    return ""


@pytest.mark.parametrize("url_name", ["login", "home", "password_change", "api_tokens"])
def test_csp_header_allows_no_inline_script(client, users, url_name):
    client.force_login(users["clerk"])
    resp = client.get(reverse(url_name))
    csp = resp["Content-Security-Policy"]
    script = _script_src(csp)
    assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp


TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    p for p in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in str(p)
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _templates():
    for d in TEMPLATE_DIRS:
        yield from d.rglob("*.html")


def test_templates_have_no_inline_script_or_event_handlers():
    problems = []
    files = list(_templates())
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        for rx, what in ((INLINE_SCRIPT, "inline <script>"), (INLINE_HANDLER, "on…= handler"), (JS_URL, "javascript: URL")):
            for m in rx.finditer(text):
                problems.append(f"{path.relative_to(settings.BASE_DIR)}: {what}: {m.group(0)[:80]}")
    assert not problems, "\n".join(problems)


# --- CSRF ---------------------------------------------------------------------------------------------------
def test_login_form_needs_a_csrf_token(users):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("login"), {"username": "clerk", "password": PASSWORD}).status_code == 403


def test_every_route_refuses_a_post_without_csrf_token(users):
    """A logged-in browser session can never be made to POST anywhere by another site."""
    from tests.support.route_walk import FOREIGN_PK, build_url, walked_routes

    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(users["bureau"])
    problems = []
    for route, name, pattern in walked_routes():
        url = build_url(route, name, pattern, FOREIGN_PK, "429001101001")
        if url is None:
            continue
        resp = client.post(url, {"x": "1"})
        if resp.status_code != 403:
            problems.append(f"POST {url} [{name}] without CSRF token → {resp.status_code}")
    assert not problems, "\n".join(problems)


def test_api_with_a_token_needs_no_csrf_but_session_api_calls_do(users):
    token = Token.objects.create(user=users["clerk"])
    client = Client(enforce_csrf_checks=True)
    resp = client.get("/api/persons/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 200
    client.force_login(users["clerk"])
    assert client.post("/api/enrollments/carry-over/", {}).status_code == 403


# --- API tokens ------------------------------------------------------------------------------------------------
def test_token_page_creates_shows_once_and_revokes(client, users):
    clerk = users["clerk"]
    client.force_login(clerk)
    page = client.get(reverse("api_tokens"))
    assert page.status_code == 200 and "没有 API 令牌" in page.content.decode()
    resp = client.post(reverse("api_tokens"), {"action": "create"})
    key = Token.objects.get(user=clerk).key
    assert resp.status_code == 200 and key in resp.content.decode()
    assert AuditEvent.objects.filter(actor=clerk, action=ACTION_TOKEN_CREATE).exists()
    # Shown once: the next visit shows it masked only.
    again = client.get(reverse("api_tokens")).content.decode()
    assert key not in again and key[:4] in again
    # The token works for the API, with the clerk's own scope.
    api = Client()
    assert api.get("/api/persons/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    # Regenerating invalidates the old key.
    client.post(reverse("api_tokens"), {"action": "create"})
    assert api.get("/api/persons/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (401, 403)
    key2 = Token.objects.get(user=clerk).key
    # Revoking ends access.
    resp = client.post(reverse("api_tokens"), {"action": "revoke"})
    assert resp.status_code == 302
    assert not Token.objects.filter(user=clerk).exists()
    assert AuditEvent.objects.filter(actor=clerk, action=ACTION_TOKEN_REVOKE).exists()
    assert api.get("/api/persons/", HTTP_AUTHORIZATION=f"Token {key2}").status_code in (401, 403)


def test_token_of_a_deactivated_user_stops_working(users):
    token = Token.objects.create(user=users["clerk"])
    users["clerk"].is_active = False
    users["clerk"].save()
    assert Client().get("/api/persons/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code in (401, 403)


def test_token_sees_only_the_users_region(users, regions):
    mine = PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="甲村王大")
    theirs = PersonFactory(household=HouseholdFactory(village=regions["v3"]), name="乙村李二")
    token = Token.objects.create(user=users["clerk"])
    body = Client().get("/api/persons/", HTTP_AUTHORIZATION=f"Token {token.key}").content.decode()
    assert mine.name in body and theirs.name not in body and theirs.id_number not in body


def test_token_page_needs_login(client, db):
    resp = client.get(reverse("api_tokens"))
    assert resp.status_code == 302 and reverse("login") in resp["Location"]
