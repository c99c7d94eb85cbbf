from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("quote/", views.quote_page, name="quote_page"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/calendar/", views.calendar_page, name="calendar"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/copy/", views.policy_copy, name="policy_copy"),
    path("policies/<int:pk>/history/", views.policy_history, name="policy_history"),
    path("policies/<int:pk>/categories/add/", views.category_edit, name="category_add"),
    path("policies/<int:pk>/categories/<int:category_pk>/edit/", views.category_edit, name="category_edit"),
]
