from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import tokens, views

api_patterns = [
    path("", include("core.api.imports")),
    path("", include("enrollment.api.urls")),
    path("", include("subsidies.api.urls")),
    path("", include("collections_app.api.urls")),
    path("", include("reporting.api.urls")),
]

handler400 = "config.requests.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/tokens/", tokens.api_tokens, name="api_tokens"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("core.urls")),
    path("", include("enrollment.urls")),
    path("", include("subsidies.urls")),
    path("", include("collections_app.urls")),
    path("", include("reporting.urls")),
]
