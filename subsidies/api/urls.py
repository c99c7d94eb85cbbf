from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("policies", views.PolicyYearViewSet, basename="policy")
router.register("subsidy-categories", views.SubsidyCategoryViewSet, basename="subsidy-category")

urlpatterns = [
    path("quote/", views.QuoteView.as_view(), name="quote"),
    path("quote/options/", views.QuoteOptionsView.as_view(), name="quote-options"),
    *router.urls,
]
