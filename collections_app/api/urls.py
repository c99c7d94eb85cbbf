from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("receipts", views.ReceiptViewSet, basename="receipt")
router.register("ledgers", views.LedgerViewSet, basename="ledger")
router.register("remittances", views.RemittanceViewSet, basename="remittance")
router.register("declarations", views.DeclarationViewSet, basename="declaration")
router.register("refunds", views.RefundViewSet, basename="refund")

urlpatterns = router.urls

# The tax office's payment-file importer (/api/imports/), another engineer's module.
from ..tax_import import api as _tax_import_api  # noqa: E402

urlpatterns += _tax_import_api.urlpatterns
