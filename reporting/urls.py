from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("progress/", views.dashboard, name="dashboard"),
    path("progress/special/", views.special_missing, name="special_missing"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/xlsx/", views.report_xlsx, name="report_xlsx"),
    path("reports/note/", views.note_edit, name="note_edit"),
    path("reports/run/", views.run_job, name="run_job"),
]
