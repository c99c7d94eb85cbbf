from django.contrib import admin

from enrollment.admin import ScopedAdmin

from .models import DailyLedger, Declaration, PublicityPosting, Receipt, Refund, Remittance


class ReadOnlyAdmin(ScopedAdmin):
    """Money records change only through the services (void, not edit or delete)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "issued_on", "village", "payer_name", "channel", "total", "status")
    list_filter = ("status", "channel", "year")
    search_fields = ("number", "payer_name")


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = ("deposited_on", "collector", "slip_number", "amount", "covered")


@admin.register(DailyLedger)
class DailyLedgerAdmin(ReadOnlyAdmin):
    list_display = ("day", "collector", "total", "cash_on_hand", "cash_counted")


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdmin):
    list_display = ("id", "township", "village", "year", "status", "person_count", "total", "confirmed_total")


@admin.register(PublicityPosting)
class PublicityPostingAdmin(ReadOnlyAdmin):
    list_display = ("village", "year", "posted_from", "posted_until", "person_count")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("enrollment", "reason", "amount", "status")
    list_filter = ("status", "reason")
