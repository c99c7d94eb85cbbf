"""core.disclosure: who sees an ID number and a birth date in full (no database)."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from core import disclosure, idcard
from core.choices import Role
from core.models import AuditEvent, User

BORN = date(1980, 5, 7)
NUMBER = idcard.make("411325", BORN, 686)
WITHOUT_FULL_IDS = [Role.LEADERSHIP, Role.DEPARTMENT]
WITH_FULL_IDS = [Role.BUREAU, Role.TAX, Role.TOWNSHIP, Role.COLLECTOR]


def viewer(role, **kwargs):
    return User(username=f"u-{role}", role=role, **kwargs)


@pytest.mark.parametrize("role", WITHOUT_FULL_IDS)
def test_a_role_without_full_ids_gets_the_mask_and_the_birth_year_only(role):
    shown = disclosure.for_viewer(viewer(role))
    assert shown.id_number(NUMBER) == idcard.mask(NUMBER) == NUMBER[:6] + "********" + NUMBER[-4:]
    assert shown.birth_date(BORN) is None
    assert shown.birth_text(BORN) == "1980年" and shown.birth_cell(BORN) == "1980"


@pytest.mark.parametrize("role", WITH_FULL_IDS)
def test_a_role_with_full_ids_sees_both_in_full(role):
    shown = disclosure.for_viewer(viewer(role))
    assert shown.id_number(NUMBER) == NUMBER
    assert shown.birth_date(BORN) == BORN
    assert shown.birth_text(BORN) == "1980年5月7日" and shown.birth_cell(BORN) == "1980-05-07"


@pytest.mark.parametrize("role", WITH_FULL_IDS + WITHOUT_FULL_IDS)
def test_a_place_that_masks_for_everyone_still_gives_the_birth_date_by_role(role):
    shown = disclosure.for_viewer(viewer(role), full_ids=None)
    assert shown.id_number(NUMBER) == idcard.mask(NUMBER)
    assert (shown.birth_date(BORN) == BORN) is (role in WITH_FULL_IDS)


@pytest.mark.parametrize(
    "role, full",
    [(Role.TOWNSHIP, True), (Role.TAX, True), (Role.BUREAU, False), (Role.COLLECTOR, False),
     (Role.LEADERSHIP, False), (Role.DEPARTMENT, False)],
)
def test_the_declaration_form_is_full_for_the_township_and_the_tax_office_only(role, full):
    shown = disclosure.for_viewer(viewer(role), full_ids=disclosure.DECLARATION_ID_FULL)
    assert shown.id_number(NUMBER) == (NUMBER if full else idcard.mask(NUMBER))


@pytest.mark.parametrize("who", [None, AnonymousUser(), viewer(Role.BUREAU, is_active=False), viewer("")])
def test_no_viewer_an_inactive_one_or_no_role_gets_masked(who):
    assert disclosure.for_viewer(who) == disclosure.MASKED


def test_a_masked_viewer_never_gets_an_entered_number_as_typed():
    """Rows of an upload hold what was typed; a number one digit off is still someone's."""
    typo = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    assert disclosure.MASKED.id_number(typo) == idcard.mask(typo)
    assert disclosure.MASKED.id_number("") == "" and disclosure.MASKED.id_number(None) == ""


def test_the_birth_year_is_for_everyone():
    assert disclosure.birth_year(BORN) == 1980 and disclosure.birth_year(None) is None


def test_a_search_by_id_matches_only_what_the_viewer_may_see():
    full = disclosure.for_viewer(viewer(Role.TOWNSHIP))
    assert disclosure.id_lookup("id_number", NUMBER, full) == Q(id_number=NUMBER)
    assert disclosure.id_lookup("id_number", NUMBER[:10], full, prefix=True) == Q(id_number__startswith=NUMBER[:10])
    masked = disclosure.for_viewer(viewer(Role.LEADERSHIP))
    assert disclosure.id_lookup("id_number", NUMBER, masked) == Q(id_number__startswith=NUMBER[:6], id_number__endswith=NUMBER[-4:])
    assert disclosure.id_lookup("id_number", NUMBER[:10], masked, prefix=True) == Q(id_number__startswith=NUMBER[:6])


@pytest.mark.django_db
def test_show_ids_sets_each_number_and_records_one_view_only_when_full(regions, users):
    rows = [{"id_number": "411325198005176860"}, {"id_number": "41132519900101001X"}]
    shown = disclosure.show_ids(users["clerk"], rows, page="p", number=lambda r: r["id_number"])
    assert shown.full_ids and [r["id_shown"] for r in rows] == [r["id_number"] for r in rows]
    (event,) = AuditEvent.objects.filter(action="view_full_id", actor=users["clerk"])
    assert event.detail == {"page": "p", "rows": 2}

    class Line:
        id_number = "411325198005176860"

    line = Line()
    disclosure.show_ids(users["leader"], [line], page="p")  # leadership: masked, nothing to record
    assert line.id_shown == "411325********6860"
    assert not AuditEvent.objects.filter(actor=users["leader"]).exists()
    disclosure.show_ids(users["clerk"], [], page="p")  # nothing shown, nothing recorded
    assert AuditEvent.objects.filter(actor=users["clerk"]).count() == 1
