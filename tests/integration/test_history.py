"""enrollment.history: the bureau sees who changed what, before and after, inside its county."""

import pytest

from enrollment.history import object_history, recent_changes
from tests.factories import CountyFactory, HouseholdFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory
from enrollment.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed_person(users, regions):
    p = PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="王小明")
    p._history_user = users["clerk"]
    p.name = "王晓明"
    p.phone = "13800000000"
    p.save()
    return p


def test_before_and_after_with_who(users, changed_person):
    changes = object_history(changed_person, user=users["bureau"])
    assert [c.kind for c in changes] == ["~", "+"]
    edit = changes[0]
    assert edit.who == users["clerk"].display_name
    diff = {c.field: (c.old, c.new) for c in edit.changes}
    assert diff["name"] == ("王小明", "王晓明") and diff["phone"] == ("", "13800000000")
    assert "updated_at" not in diff


def test_recent_changes_for_the_bureau_only_and_only_its_county(users, changed_person):
    listed = recent_changes(user=users["bureau"])
    assert any(c.label == "enrollment.Person" and c.object_id == changed_person.pk for c in listed)
    assert recent_changes(user=users["clerk"]) == []  # no audit.view capability
    other_county = VillageFactory(parent=TownshipFactory(parent=CountyFactory(code="429002")))
    outsider = UserFactory(role=Role.BUREAU, region=other_county.parent.parent)
    assert not any(c.object_id == changed_person.pk and c.label == "enrollment.Person" for c in recent_changes(user=outsider))
    assert object_history(changed_person, user=outsider) == []


def test_id_numbers_are_masked_without_full_id_capability(users, changed_person):
    old = changed_person.id_number
    changed_person.id_number = old[:-1] + ("0" if old[-1] != "0" else "1")
    changed_person.save()
    leader_view = object_history(changed_person, user=users["leader"])[0]
    change = {c.field: c for c in leader_view.changes}["id_number"]
    assert "*" in change.old and old not in str(change.old)
    bureau_view = {c.field: c for c in object_history(changed_person, user=users["bureau"])[0].changes}["id_number"]
    assert bureau_view.old == old


def test_the_county_change_list_masks_id_numbers_even_for_the_bureau(users, changed_person):
    old = changed_person.id_number
    changed_person.id_number = old[:-1] + ("0" if old[-1] != "0" else "1")
    changed_person.save()
    listed = [c for c in recent_changes(user=users["bureau"]) if c.object_id == changed_person.pk and c.label == "enrollment.Person"]
    id_changes = [f for c in listed for f in c.changes if f.field == "id_number"]
    assert id_changes and all(old not in str(f.old) and "*" in str(f.old) for f in id_changes)
