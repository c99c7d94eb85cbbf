"""Page URLs, appended to collections_app/urls.py (namespace "collections")."""

from django.urls import path

from . import views

urlpatterns = [
    path("tax-imports/", views.taximport_list, name="taximport_list"),
    path("tax-imports/township/", views.taximport_township, name="taximport_township"),
    path("tax-imports/township/problems.xlsx", views.taximport_township_problems, name="taximport_township_problems"),
    path("tax-imports/<int:pk>/", views.taximport_detail, name="taximport_detail"),
    path("tax-imports/<int:pk>/confirm/", views.taximport_confirm, name="taximport_confirm"),
    path("tax-imports/<int:pk>/cancel/", views.taximport_cancel, name="taximport_cancel"),
    path("tax-imports/<int:pk>/resume/", views.taximport_resume, name="taximport_resume"),
    path("tax-imports/<int:pk>/progress/", views.taximport_progress, name="taximport_progress"),
    path("tax-imports/<int:pk>/problems.xlsx", views.taximport_problems, name="taximport_problems"),
]
