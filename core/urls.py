from django.urls import path

from .imports import views

app_name = "core"

urlpatterns = [
    path("imports/<int:pk>/", views.import_run, name="import_run"),
    path("imports/<int:pk>/confirm/", views.import_run_confirm, name="import_run_confirm"),
    path("imports/<int:pk>/cancel/", views.import_run_cancel, name="import_run_cancel"),
    path("imports/<int:pk>/problems.xlsx", views.import_run_problems, name="import_run_problems"),
]
