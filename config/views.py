from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from reporting.selectors import at_a_glance

from .navigation import landing_for


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
