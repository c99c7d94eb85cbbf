"""Every money record is read-only here: receipts are voided, refunds decided and imports applied
through the services, never edited or deleted in the admin."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import (
    DailyLedger,
    Declaration,
    DeclarationLine,
    DoubleLimitBreach,
    PublicityPosting,
    Receipt,
    ReceiptCounter,
    ReceiptLine,
    Refund,
    Remittance,
    TaxImport,
    TaxImportRow,
)


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "issued_on", "village", "payer_name", "channel", "total", "status")
    list_filter = ("status", "channel", "year")
    search_fields = ("number", "payer_name")


@admin.register(ReceiptLine)
class ReceiptLineAdmin(ReadOnlyAdmin):
    list_display = ("receipt", "name", "tier", "standard", "subsidy", "amount", "subsidy_category_code")
    search_fields = ("receipt__number", "name")
    scope_through = "receipt"


@admin.register(ReceiptCounter)
class ReceiptCounterAdmin(ReadOnlyAdmin):
    list_display = ("county", "year", "last_number")
    list_filter = ("year",)
    scope_through = "county"


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ("deposited_on", "collector", "slip_number", "amount", "covered")


@admin.register(DoubleLimitBreach)
class DoubleLimitBreachAdmin(ReadOnlyAdmin):
    list_display = ("collector", "region", "amount", "oldest", "days_overdue", "over_amount", "over_days", "last_seen", "resolved_at")
    list_filter = ("over_amount", "over_days")


@admin.register(DailyLedger)
class DailyLedgerAdmin(ReadOnlyAdmin):
    list_display = ("day", "collector", "total", "cash_on_hand", "cash_counted")


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdmin):
    list_display = ("id", "township", "village", "year", "status", "person_count", "total", "confirmed_total")


@admin.register(DeclarationLine)
class DeclarationLineAdmin(ReadOnlyAdmin):
    list_display = ("declaration", "name", "tier", "amount", "result", "fail_reason")
    list_filter = ("result",)
    scope_through = "declaration"


@admin.register(PublicityPosting)
class PublicityPostingAdmin(ReadOnlyAdmin):
    list_display = ("village", "year", "posted_from", "posted_until", "person_count")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("enrollment", "reason", "amount", "status")
    list_filter = ("status", "reason")


@admin.register(TaxImport)
class TaxImportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "county", "original_name", "kind", "status", "uploaded_by", "applied_at")
    list_filter = ("status",)


@admin.register(TaxImportRow)
class TaxImportRowAdmin(ReadOnlyAdmin):
    list_display = ("tax_import", "row_number", "outcome", "name", "amount", "owed", "voucher", "refund_candidate")
    list_filter = ("outcome", "refund_candidate")
