from django.urls import path

from . import views

app_name = "collections"

urlpatterns = [
    path("receipts/", views.receipt_list, name="receipt_list"),
    path("receipts/new/", views.receipt_create, name="receipt_create"),
    path("receipts/<int:pk>/", views.receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/print/", views.receipt_print, name="receipt_print"),
    path("receipts/<int:pk>/void/", views.receipt_void, name="receipt_void"),
    path("ledger/", views.ledger, name="ledger"),
    path("remittances/", views.remittance_list, name="remittance_list"),
    path("remittances/new/", views.remittance_create, name="remittance_create"),
    path("declarations/", views.declaration_list, name="declaration_list"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/export.xlsx", views.declaration_export, name="declaration_export"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("publicity/", views.publicity_list, name="publicity_list"),
    path("publicity/<int:village_pk>/print/", views.publicity_print, name="publicity_print"),
    path("publicity/<int:village_pk>/posting/", views.publicity_posting, name="publicity_posting"),
    path("publicity/postings/<int:pk>/photo/", views.publicity_photo, name="publicity_photo"),
    path("refunds/", views.refund_list, name="refund_list"),
    path("refunds/new/", views.refund_create, name="refund_create"),
    path("refunds/<int:pk>/", views.refund_detail, name="refund_detail"),
    path("refunds/<int:pk>/evidence/", views.refund_evidence, name="refund_evidence"),
]

# The tax office's payment-file importer (another engineer's module) lives in the same namespace.
from .tax_import import urls as _tax_import_urls  # noqa: E402

urlpatterns += _tax_import_urls.urlpatterns
