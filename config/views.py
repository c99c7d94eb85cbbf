from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.tokens import REASON_PASSWORD_CHANGED, tokens_revoke
from reporting.selectors import at_a_glance

from .navigation import landing_for

MSG_PASSWORD_CHANGED = "密码已修改。原有的 API 令牌已失效，如有程序使用，请在“API 令牌”页面重新生成。"


@login_required
def home(request):
    """Each role lands on its own page: its region's figures today, and the links it uses most."""
    user = request.user
    context = {"landing": landing_for(user), "glance": at_a_glance(user=user), "can_remit": user.can("remittance.record")}
    return render(request, "home.html", context)


@never_cache
def healthz(request):
    status = {"database": "ok"}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # a health check reports, never raises
        status["database"] = f"error: {exc.__class__.__name__}"
        healthy = False
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
            status["broker"] = "ok"
        except Exception as exc:
            status["broker"] = f"error: {exc.__class__.__name__}"
            healthy = False
    else:
        status["broker"] = "eager (no REDIS_URL)"
    status["status"] = "ok" if healthy else "error"
    return JsonResponse(status, status=200 if healthy else 503)


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change; the API tokens made with the old password end with it."""

    template_name = "registration/password_change.html"
    success_url = "/"

    def form_valid(self, form):
        response = super().form_valid(form)
        tokens_revoke(user=form.user, actor=form.user, reason=REASON_PASSWORD_CHANGED)
        messages.success(self.request, MSG_PASSWORD_CHANGED)
        return response
