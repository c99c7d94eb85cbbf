"""The roster's admin pages, scoped like every page (``core.admin.ScopedAdmin``)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ScopedAdmin

from .models import Enrollment, Household, HouseholdNotice, Person, PersonIdentity, TransferRequest


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "village", "address")
    search_fields = ("number", "address")
    raw_id_fields = ("village",)


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = ("name", "masked_id", "sex", "birth_date", "household", "is_deceased")
    search_fields = ("name", "id_number")
    raw_id_fields = ("household",)


@admin.register(Enrollment)
class EnrollmentAdmin(ScopedAdmin):
    list_display = ("person", "year", "village", "tier", "status", "amount_due")
    list_filter = ("year", "status")
    raw_id_fields = ("person", "village")


@admin.register(HouseholdNotice)
class HouseholdNoticeAdmin(ScopedAdmin):
    list_display = ("household", "year", "notice_receipt", "pledge_letter", "note", "updated_at")
    list_filter = ("year", "notice_receipt", "pledge_letter")
    search_fields = ("household__number",)
    raw_id_fields = ("household",)


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdmin):  # deciding one moves the person: only through the service
    list_display = ("person", "from_household", "to_household", "status", "created_at", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("person", "from_household", "to_household", "requested_by", "decided_by")


@admin.register(PersonIdentity)
class PersonIdentityAdmin(ScopedAdmin):
    list_display = ("person", "category", "year", "certified_on", "source_list")
    list_filter = ("year",)
    raw_id_fields = ("person",)
