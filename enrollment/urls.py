from django.urls import path

from .views import households, identities, imports, persons, roster

app_name = "enrollment"

urlpatterns = [
    path("roster/", roster.roster, name="roster"),
    path("roster/export/", roster.roster_export, name="roster_export"),
    path("roster/import/", imports.roster_import, name="roster_import"),
    path("roster/carry-over/", roster.carry_over_view, name="carry_over"),
    path("roster/notices/", roster.notice_list, name="notice_list"),
    path("households/new/", households.household_create, name="household_create"),
    path("households/id-check/", households.id_check, name="id_check"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/notice/", households.household_notice, name="household_notice"),
    path("households/<int:pk>/transfer/", households.transfer_create, name="transfer_create"),
    path("persons/<int:pk>/", persons.person_detail, name="person_detail"),
    path("transfers/", persons.transfer_list, name="transfer_list"),
    path("transfers/<int:pk>/decide/", persons.transfer_decide_view, name="transfer_decide"),
    path("audit/", persons.audit_list, name="audit_list"),
    path("identities/", identities.identity_list, name="identity_list"),
    path("identities/import/", identities.identity_import, name="identity_import"),
]
