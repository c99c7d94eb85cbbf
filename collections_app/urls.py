from django.urls import path

from .cash import views as cash_views
from .declarations import views as declarations_views
from .departures import views as departures_views
from .publicity import views as publicity_views
from .refunds import views as refunds_views

app_name = "collections"

urlpatterns = [
    path("receipts/", cash_views.receipt_list, name="receipt_list"),
    path("receipts/new/", cash_views.receipt_create, name="receipt_create"),
    path("receipts/<int:pk>/", cash_views.receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/print/", cash_views.receipt_print, name="receipt_print"),
    path("receipts/print/", cash_views.receipt_print_batch, name="receipt_print_batch"),
    path("receipts/<int:pk>/void/", cash_views.receipt_void, name="receipt_void"),
    path("ledger/", cash_views.ledger, name="ledger"),
    path("remittances/", cash_views.remittance_list, name="remittance_list"),
    path("remittances/new/", cash_views.remittance_create, name="remittance_create"),
    path("declarations/", declarations_views.declaration_list, name="declaration_list"),
    path("declarations/<int:pk>/", declarations_views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/export.xlsx", declarations_views.declaration_export, name="declaration_export"),
    path("reconciliation/", declarations_views.reconciliation, name="reconciliation"),
    path("publicity/", publicity_views.publicity_list, name="publicity_list"),
    path("publicity/<int:village_pk>/print/", publicity_views.publicity_print, name="publicity_print"),
    path("publicity/print/", publicity_views.publicity_print_batch, name="publicity_print_batch"),
    path("publicity/<int:village_pk>/posting/", publicity_views.publicity_posting, name="publicity_posting"),
    path("publicity/postings/<int:pk>/photo/", publicity_views.publicity_photo, name="publicity_photo"),
    path("refunds/", refunds_views.refund_list, name="refund_list"),
    path("departures/import/", departures_views.departure_import, name="departure_import"),
    path("refunds/new/", refunds_views.refund_create, name="refund_create"),
    path("refunds/<int:pk>/", refunds_views.refund_detail, name="refund_detail"),
    path("refunds/<int:pk>/evidence/", refunds_views.refund_evidence, name="refund_evidence"),
]

# The tax office's payment-file importer (another engineer's module) lives in the same namespace.
from .tax_import import urls as _tax_import_urls  # noqa: E402

urlpatterns += _tax_import_urls.urlpatterns
