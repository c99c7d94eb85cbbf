from django.urls import path

from . import views

urlpatterns = [
    path("reports/progress/", views.ProgressView.as_view(), name="reports-progress"),
    path("reports/rankings/", views.RankingView.as_view(), name="reports-rankings"),
]
