"""core.history: the bureau sees who changed what, before and after, inside its county."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app.models import Remittance
from core.choices import Role
from core.history import change_log, object_history, recent_changes
from core.models import Region
from tests.factories import (
    CountyFactory,
    EnrollmentFactory,
    HouseholdFactory,
    PersonFactory,
    TownshipFactory,
    UserFactory,
    VillageFactory,
)
from tests.factories.collections import make_policy

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


@pytest.fixture
def outsider():
    """The bureau of another county."""
    other = VillageFactory(parent=TownshipFactory(parent=CountyFactory(code="429002")))
    return UserFactory(role=Role.BUREAU, region=other.parent.parent)


def entries(user, label, object_id, **filters):
    return [c.kind for c in recent_changes(user=user, limit=1000, **filters) if c.label == label and c.object_id == object_id]


def test_a_deleted_person_keeps_its_history_for_the_county_only(users, changed_person, outsider):
    pk = changed_person.pk
    changed_person._history_user = users["clerk"]
    changed_person.delete()
    assert entries(users["bureau"], "enrollment.Person", pk) == ["-", "~", "+"]
    deleted = next(c for c in recent_changes(user=users["bureau"]) if c.label == "enrollment.Person" and c.object_id == pk)
    assert deleted.kind_label == "删除" and deleted.who == users["clerk"].display_name
    assert "王晓明" in deleted.object_repr and changed_person.id_number not in deleted.object_repr  # masked
    assert entries(outsider, "enrollment.Person", pk) == []
    assert entries(users["nobody"], "enrollment.Person", pk) == []


def test_a_deleted_household_and_its_members_stay_visible_to_the_county_only(users, regions, outsider):
    household = HouseholdFactory(village=regions["v1"])
    person = PersonFactory(household=household)
    hh_pk, p_pk = household.pk, person.pk
    person.delete()
    household.delete()
    assert entries(users["bureau"], "enrollment.Household", hh_pk) == ["-", "+"]
    assert entries(users["bureau"], "enrollment.Person", p_pk) == ["-", "+"]  # through the household's history
    for user in (outsider, users["nobody"]):
        assert entries(user, "enrollment.Household", hh_pk) == [] and entries(user, "enrollment.Person", p_pk) == []


def test_a_person_moved_to_another_county_leaves_its_past_behind(users, regions, changed_person, outsider):
    """Each history row is visible where the person was when it was written; the county that
    holds the person today sees the whole history (as on the person's page)."""
    pk = changed_person.pk
    changed_person.household = HouseholdFactory(village=Region.objects.get(parent__parent=outsider.region))
    changed_person.save()
    assert entries(users["bureau"], "enrollment.Person", pk) == ["~", "+"]  # before the move only
    assert entries(outsider, "enrollment.Person", pk) == ["~", "~", "+"]
    third = UserFactory(role=Role.BUREAU, region=CountyFactory(code="429003"))
    assert entries(third, "enrollment.Person", pk) == []


def test_the_enrollments_of_a_deleted_person_are_listed_without_their_person(users, regions, outsider):
    enrollment = EnrollmentFactory(person=PersonFactory(household=HouseholdFactory(village=regions["v1"])))
    e_pk, person = enrollment.pk, enrollment.person
    enrollment.delete()
    person.delete()
    listed = [c for c in recent_changes(user=users["bureau"]) if c.label == "enrollment.Enrollment" and c.object_id == e_pk]
    assert [c.kind for c in listed] == ["-", "+"] and all(c.object_repr == f"#{e_pk}" for c in listed)
    assert entries(outsider, "enrollment.Enrollment", e_pk) == []


def test_remittances_and_policy_rows_are_listed_for_their_county(users, regions, outsider):
    policy = make_policy(regions["county"])
    tier = policy.tiers.get()
    remittance = Remittance.objects.create(
        collector=users["collector"], region=regions["v1"], deposited_on=date(2025, 1, 2), amount=Decimal("400.00"),
        slip_number="H001", covered=Decimal("400.00"), created_by=users["collector"],
    )
    for label, pk in (("collections_app.Remittance", remittance.pk), ("subsidies.PolicyYear", policy.pk), ("subsidies.Tier", tier.pk)):
        assert entries(users["bureau"], label, pk) == ["+"], label
        assert entries(outsider, label, pk) == [], label
    tier_pk = tier.pk
    tier.delete()  # a child row deleted: still listed through its policy
    assert entries(users["bureau"], "subsidies.Tier", tier_pk) == ["-", "+"]
    assert entries(outsider, "subsidies.Tier", tier_pk) == []


def test_the_change_log_pages_and_filters(users, regions):
    for _ in range(7):
        p = PersonFactory(household=HouseholdFactory(village=regions["v1"]))
        p._history_user = users["clerk"]
        p.name += "改"
        p.save()
    log = change_log(user=users["bureau"])
    everything = recent_changes(user=users["bureau"], limit=10_000)
    assert len(log) == len(everything) > 20
    pages = [c for start in range(0, len(log), 6) for c in log[start:start + 6]]
    assert [(c.label, c.object_id, c.kind, c.at) for c in pages] == [(c.label, c.object_id, c.kind, c.at) for c in everything]
    assert [c.at for c in everything] == sorted((c.at for c in everything), reverse=True)
    households = change_log(user=users["bureau"], labels=["enrollment.Household"])
    assert len(households) == 7 and {c.label for c in households[0:100]} == {"enrollment.Household"}
    by_clerk = change_log(user=users["bureau"], actor=users["clerk"])
    assert len(by_clerk) == 7 and all(c.who == users["clerk"].display_name and c.kind == "~" for c in by_clerk[0:100])
    assert len(change_log(user=users["bureau"], since=timezone.now() + timedelta(minutes=1))) == 0
    assert len(change_log(user=users["clerk"])) == 0 and change_log(user=users["clerk"])[0:10] == []


@pytest.fixture
def corrected_person(users, regions):
    """A resident whose ID number was corrected against the ID card: birth date with it."""
    from core import idcard

    p = PersonFactory(household=HouseholdFactory(village=regions["v1"]), id_number=idcard.make("411325", date(1980, 5, 17), 11))
    p._history_user = users["clerk"]
    p.id_number = idcard.make("411325", date(1975, 3, 9), 11)
    p.fill_from_id()
    p.save()
    return p


def test_a_birth_date_change_shows_the_year_only_without_the_full_id_right(users, corrected_person):
    from enrollment.selectors import person_history

    leader = {c.field: c for c in object_history(corrected_person, user=users["leader"])[0].changes}["birth_date"]
    assert (leader.old, leader.new) == ("1980年", "1975年")
    bureau = {c.field: c for c in object_history(corrected_person, user=users["bureau"])[0].changes}["birth_date"]
    assert (bureau.old, bureau.new) == (date(1980, 5, 17), date(1975, 3, 9))
    listed = [f for c in recent_changes(user=users["bureau"]) for f in c.changes if f.field == "birth_date"]
    assert listed and listed[0].old == date(1980, 5, 17)  # the bureau may see it; the IDs stay masked
    # The person page's list prints the same values the change log holds (one rule, core.history).
    (edit,) = [e for e in person_history(corrected_person, viewer=users["leader"]) if e.kind == "~"]
    lines = [f"{c.label}：{c.old_text} → {c.new_text}" for c in edit.changes]
    assert "出生日期：1980年 → 1975年" in lines and not any("5月17日" in line for line in lines)
    (edit,) = [e for e in person_history(corrected_person, viewer=users["bureau"]) if e.kind == "~"]
    assert "出生日期：1980年5月17日 → 1975年3月9日" in [f"{c.label}：{c.old_text} → {c.new_text}" for c in edit.changes]
