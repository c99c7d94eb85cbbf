"""API tokens: when one stops working, and how a refusal is answered.

The rule lives where every token is checked, ``TokenAuthentication``: a token made before its
user's last password change (``User.password_changed``, stamped by any path that sets a password)
or whose user is locked out by axes is refused and revoked on the spot. The paths that change a
password or lock an account (the user's own change, the admin, ``changepassword``, axes'
``user_locked_out``) also revoke at once through ``tokens_revoke``, so no stale token waits for
its next use; a path added later that forgets is still covered by the check.

Failed token authentication is throttled per client address (``FailedTokenThrottle``, scope
``token_failure``): past the limit every token from that address answers 429 until the window
passes, so guessing or a script stuck on an old key cannot hammer the API.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, throttling
from rest_framework.authtoken.models import Token

from .audit import record
from .models import User

ACTION_TOKEN_CREATE = "token_create"
ACTION_TOKEN_REVOKE = "token_revoke"
# Why a token was revoked (the audit event's ``detail["reason"]``).
REASON_BY_OWNER = "owner"
REASON_PASSWORD_CHANGED = "password_changed"
REASON_LOCKED_OUT = "locked_out"

ERR_TOKEN_PASSWORD_CHANGED = "账户密码已修改，原 API 令牌已失效。请登录后在“API 令牌”页面重新生成。"
ERR_TOKEN_LOCKED_OUT = "账户因登录失败次数过多已被锁定，API 令牌已失效。请等待锁定解除或联系县医保局管理员，然后重新生成令牌。"
ERR_TOKEN_FAILURES = "来自该地址的 API 令牌验证失败次数过多，已暂停令牌验证。请检查程序使用的令牌是否正确，稍后再试。"


def masked(key: str) -> str:
    return key[:4] + "…" + key[-4:] if key else ""


@transaction.atomic
def token_create(*, user) -> Token:
    """A new API token for ``user``, replacing any old one; recorded (the key masked)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    record(actor=user, action=ACTION_TOKEN_CREATE, obj=user, detail={"token": masked(token.key)})
    return token


@transaction.atomic
def tokens_revoke(*, user, actor, reason: str) -> int:
    """Delete ``user``'s API tokens, one audit event each (filed at the user's county when no one
    acted, e.g. a lock-out or a management command). Returns how many were revoked."""
    tokens = list(Token.objects.select_for_update().filter(user=user))
    for token in tokens:
        record(
            actor=actor,
            action=ACTION_TOKEN_REVOKE,
            obj=user,
            detail={"token": masked(token.key), "reason": reason},
            region=user.county,
        )
    Token.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    return len(tokens)


def is_locked_out(user) -> bool:
    """Whether axes holds the account locked from any address (lock-outs are per username and
    address; a token is used from wherever its program runs)."""
    since = timezone.now() - timedelta(seconds=settings.AXES_COOLOFF_TIME.total_seconds())
    return AccessAttempt.objects.filter(
        username=user.get_username(), failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).exists()


def revocation_reason(token) -> str | None:
    """Why ``token`` may no longer be used, or None."""
    changed = token.user.password_changed
    if changed is not None and token.created < changed:
        return REASON_PASSWORD_CHANGED
    if is_locked_out(token.user):
        return REASON_LOCKED_OUT
    return None


REFUSALS = {REASON_PASSWORD_CHANGED: ERR_TOKEN_PASSWORD_CHANGED, REASON_LOCKED_OUT: ERR_TOKEN_LOCKED_OUT}


class FailedTokenThrottle(throttling.SimpleRateThrottle):
    """Counts failed token authentications per client address; ``allow_request`` is asked only
    when one fails, ``exhausted`` before each attempt."""

    scope = "token_failure"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exhausted(self, request) -> bool:
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) >= self.num_requests

    def record_failure(self, request) -> None:
        self.allow_request(request, None)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        offered = authentication.get_authorization_header(request).split()[:1]
        if not offered or offered[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: another class's turn, nothing to count
        throttle = FailedTokenThrottle()
        if throttle.exhausted(request):
            raise exceptions.Throttled(wait=throttle.wait(), detail=ERR_TOKEN_FAILURES)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        reason = revocation_reason(token)
        if reason is not None:
            tokens_revoke(user=user, actor=None, reason=reason)
            raise exceptions.AuthenticationFailed(REFUSALS[reason])
        return user, token


def revoke_on_lockout(sender, request=None, username=None, **kwargs):
    """Receiver of axes' ``user_locked_out``: the locked account's tokens end now."""
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        tokens_revoke(user=user, actor=None, reason=REASON_LOCKED_OUT)
