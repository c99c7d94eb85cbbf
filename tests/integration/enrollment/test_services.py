from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from core import audit
from core.models import AuditEvent
from enrollment import rules, services
from enrollment.choices import EnrollmentStatus, ExclusionReason, Relation
from enrollment.models import Enrollment, Household, Person, TransferStatus
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory, make_id
from tests.factories.enrollment import five_members, household_with

YEAR = 2026


def save(user, village, members, **kw):
    return services.household_save(actor=user, year=YEAR, village=village, number=kw.pop("number", "0101"),
                                   address="一组", members=members, **kw)


def test_household_of_five_is_created_with_enrollments(users, regions):
    household = save(users["collector"], regions["v1"], five_members())
    assert household.members.count() == 5
    head = household.head
    assert head.name == "王建国" and head.sex == "M" and head.birth_date == date(1978, 3, 2)
    assert Enrollment.objects.filter(person__household=household, year=YEAR, status=EnrollmentStatus.PENDING).count() == 5
    # Every change is in the history with who made it.
    assert Person.history.filter(household_id=household.pk).count() == 5


def test_nothing_is_saved_when_one_row_is_wrong(users, regions):
    members = five_members()
    members[3].id_number = members[3].id_number[:17] + ("0" if members[3].id_number[17] != "0" else "1")
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert "校验位" in exc.value.members[3]["id_number"][0]
    assert not Household.objects.exists() and not Person.objects.exists()


def test_mistyped_id_is_corrected_and_sex_and_birth_follow(users, regions):
    household = save(users["collector"], regions["v1"], five_members())
    person = household.members.get(name="王小明")
    right = make_id(born=date(2005, 2, 21), sequence=124)  # even sequence: female
    services.person_update(actor=users["collector"], person=person, id_number=right.lower())
    person.refresh_from_db()
    assert person.id_number == right and person.birth_date == date(2005, 2, 21) and person.sex == "F"
    assert person.history.first().history_user == users["collector"] or person.history.count() == 2


def test_duplicate_id_anywhere_is_refused_and_says_where(users, regions):
    elsewhere = PersonFactory(household__village=regions["v3"])
    members = five_members()
    members[2].id_number = elsewhere.id_number
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    message = exc.value.members[2]["id_number"][0]
    assert regions["v3"].name in message and elsewhere.masked_id in message
    assert elsewhere.id_number not in message
    assert Person.objects.count() == 1


def test_same_id_twice_in_one_form(users, regions):
    members = five_members()
    members[4].id_number = members[1].id_number
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert "第2行" in exc.value.members[4]["id_number"][0]


@pytest.mark.parametrize("heads", [0, 2])
def test_exactly_one_head(users, regions, heads):
    members = five_members()
    members[0].relation = Relation.HEAD if heads else Relation.OTHER
    if heads == 2:
        members[1].relation = Relation.HEAD
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert services.ERR_ONE_HEAD.format(count=heads) in exc.value.non_field


def test_refusal_needs_a_note_and_deceased_needs_a_date(users, regions):
    members = five_members()
    members[1].participation = ExclusionReason.REFUSED
    members[4].is_deceased = True
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert exc.value.members[1]["reason_note"] == [services.ERR_NOTE_REQUIRED.format(reason=ExclusionReason.REFUSED.label)]
    assert services.ERR_DECEASED_DATE in exc.value.members[4]["deceased_on"]


def test_deceased_member_is_excluded_automatically(users, regions):
    members = five_members()
    members[4].is_deceased, members[4].deceased_on, members[4].participation = True, date(2025, 3, 1), ""
    household = save(users["collector"], regions["v1"], members)
    e = Enrollment.objects.get(person__household=household, person__name="王德福")
    assert e.status == EnrollmentStatus.EXCLUDED and e.exclusion_reason == ExclusionReason.DECEASED


def test_household_number_unique_in_village(users, regions):
    HouseholdFactory(village=regions["v1"], number="0101")
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], five_members())
    assert "number" in exc.value.household


@pytest.mark.parametrize("user_key", ["collector3", "clerk2", "nobody"])
def test_cannot_write_outside_own_region(users, regions, user_key):
    with pytest.raises(PermissionDenied):
        save(users[user_key], regions["v1"], five_members())


@pytest.mark.parametrize("user_key", ["bureau", "leader", "tax", "dept"])
def test_read_only_roles_cannot_edit(users, regions, user_key):
    with pytest.raises(PermissionDenied):
        save(users[user_key], regions["v1"], five_members())


def test_paid_member_cannot_be_excluded_or_deleted(users, regions):
    household, people = household_with(regions["v1"], [EnrollmentStatus.PAID, None], year=YEAR)
    members = [services.MemberInput(person=p, name=p.name, id_number=p.id_number, relation=p.relation) for p in people]
    members[0].participation = ExclusionReason.EMPLOYEE_INSURANCE
    with pytest.raises(services.RosterInvalid) as exc:
        services.household_save(actor=users["collector"], year=YEAR, household=household, number=household.number, members=members)
    assert "participation" in exc.value.members[0]
    members[0].participation, members[0].delete = None, True
    with pytest.raises(services.RosterInvalid) as exc:
        services.household_save(actor=users["collector"], year=YEAR, household=household, number=household.number, members=members)
    assert services.ERR_DELETE_PAID in exc.value.members[0]["delete"]


def test_removing_an_unpaid_member(users, regions):
    household = save(users["collector"], regions["v1"], five_members())
    members = [services.MemberInput(person=p, name=p.name, id_number=p.id_number, relation=p.relation)
               for p in household.members.order_by("id")]
    members[3].delete = True
    services.household_save(actor=users["collector"], year=YEAR, household=household, number="0101", members=members)
    assert household.members.count() == 4


def test_carry_over_skips_deceased_and_excluded_and_is_idempotent(users, regions):
    v1 = regions["v1"]
    household_with(v1, [EnrollmentStatus.CONFIRMED, EnrollmentStatus.PENDING, EnrollmentStatus.EXCLUDED], year=YEAR - 1)
    household_with(v1, [EnrollmentStatus.CONFIRMED, EnrollmentStatus.CONFIRMED], year=YEAR - 1, deceased={1})
    household_with(v1, [EnrollmentStatus.REFUNDED], year=YEAR - 1)
    other = EnrollmentFactory(person=PersonFactory(household__village=regions["v2"]), year=YEAR - 1, status=EnrollmentStatus.CONFIRMED)
    report = services.carry_over(actor=users["clerk"], village=v1, to_year=YEAR)
    assert report.counts == {rules.CARRY_CREATE: 3, rules.CARRY_EXCLUDED: 1, rules.CARRY_DECEASED: 1, rules.CARRY_REFUNDED: 1}
    assert Enrollment.objects.filter(year=YEAR, village=v1, status=EnrollmentStatus.PENDING).count() == 3
    assert not Enrollment.objects.filter(year=YEAR, person=other.person).exists()
    # New rows carry history, so the carry-over is visible on each person's page.
    assert Enrollment.history.filter(year=YEAR).count() == 3
    again = services.carry_over(actor=users["clerk"], village=v1, to_year=YEAR)
    assert again.created == 0 and again.counts[rules.CARRY_EXISTS] == 3
    assert AuditEvent.objects.filter(action="carry_over").count() == 2


def test_carry_over_out_of_scope(users, regions):
    with pytest.raises(PermissionDenied):
        services.carry_over(actor=users["clerk2"], village=regions["v1"], to_year=YEAR)


def test_notice_set(users, regions):
    household = HouseholdFactory(village=regions["v1"])
    notice = services.notice_set(actor=users["collector"], household=household, year=YEAR, notice_receipt=True, pledge_letter=False)
    assert notice.notice_receipt and not notice.pledge_letter
    with pytest.raises(PermissionDenied):
        services.notice_set(actor=users["collector3"], household=household, year=YEAR, notice_receipt=True, pledge_letter=True)


def test_transfer_between_townships(users, regions):
    elsewhere = PersonFactory(household__village=regions["v3"], relation=Relation.CHILD)
    EnrollmentFactory(person=elsewhere, year=YEAR, status=EnrollmentStatus.PENDING)
    target = HouseholdFactory(village=regions["v1"])
    t = services.transfer_request(actor=users["collector"], id_number=elsewhere.id_number, to_household=target, relation=Relation.CHILD)
    with pytest.raises(services.RosterInvalid):
        services.transfer_request(actor=users["collector"], id_number=elsewhere.id_number, to_household=target)
    # The requesting side cannot approve; the holding side can.
    assert t not in services.transfers_to_decide(users["collector"])
    assert list(services.transfers_to_decide(users["clerk2"])) == [t]
    with pytest.raises(PermissionDenied):
        services.transfer_decide(actor=users["collector"], transfer=t, approve=True)
    services.transfer_decide(actor=users["clerk2"], transfer=t, approve=True)
    elsewhere.refresh_from_db()
    t.refresh_from_db()
    assert t.status == TransferStatus.APPROVED and elsewhere.household == target
    assert Enrollment.objects.get(person=elsewhere, year=YEAR).village == regions["v1"]


def test_reveal_is_logged_and_role_bound(users, regions):
    person = PersonFactory(household__village=regions["v1"])
    assert services.reveal_id(actor=users["collector"], person=person) == person.id_number
    assert AuditEvent.objects.filter(action=audit.ACTION_VIEW_FULL_ID, object_id=str(person.pk), actor=users["collector"]).exists()
    with pytest.raises(PermissionDenied):
        services.reveal_id(actor=users["leader"], person=person)
    with pytest.raises(PermissionDenied):
        services.reveal_id(actor=users["collector3"], person=person)


def test_enrollment_set(users, regions):
    person = PersonFactory(household__village=regions["v1"])
    e = services.enrollment_set(actor=users["collector"], person=person, year=YEAR, participation=ExclusionReason.REFUSED, reason_note="外出务工")
    assert e.status == EnrollmentStatus.EXCLUDED and e.reason_note == "外出务工"
    e = services.enrollment_set(actor=users["collector"], person=person, year=YEAR, participation="enrol", tier=2)
    assert e.status == EnrollmentStatus.PENDING and e.exclusion_reason == "" and e.tier == 2
    assert services.enrollment_set(actor=users["collector"], person=person, year=YEAR, participation="") is None


def test_carry_over_follows_where_people_live_now(users, regions):
    moved_in = PersonFactory(household__village=regions["v1"])
    EnrollmentFactory(person=moved_in, year=YEAR - 1, village=regions["v3"], status=EnrollmentStatus.CONFIRMED)
    moved_out = PersonFactory(household__village=regions["v3"])
    EnrollmentFactory(person=moved_out, year=YEAR - 1, village=regions["v1"], status=EnrollmentStatus.CONFIRMED)
    report = services.carry_over(actor=users["collector"], village=regions["v1"], to_year=YEAR)
    assert report.created == 1
    assert Enrollment.objects.get(year=YEAR).person == moved_in
    assert Enrollment.objects.get(year=YEAR).village == regions["v1"]


def test_household_number_is_kept_as_the_import_keeps_it(users, regions):
    """Full-width digits and spaces are the same household number on the form, the API and the import."""
    household = save(users["collector"], regions["v1"], five_members(), number="\u3000００１２ ")
    assert household.number == "0012"
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], [five_members()[0]], number="0012")
    assert exc.value.household["number"] == [services.ERR_NUMBER_TAKEN.format(number="0012")]


def test_a_cover_group_is_kept_on_the_person_and_a_welfare_child_needs_its_day_of_entry(users, regions):
    """Jiangnan (seed 001): veterans and the like are covered from the day they pay; a child
    taken in by a welfare institution from the day it entered — the person carries the group."""
    members = five_members()
    members[1].cover_group = "veteran"
    members[2].cover_group = "welfare_child"
    members[3].cover_group = "astronaut"
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert exc.value.members[2]["cover_group_since"] == [services.ERR_COVER_SINCE]
    assert "无法识别" in exc.value.members[3]["cover_group"][0] and not Person.objects.exists()
    members[2].cover_group_since = date(2099, 1, 1)
    members[3].cover_group = ""
    with pytest.raises(services.RosterInvalid) as exc:
        save(users["collector"], regions["v1"], members)
    assert exc.value.members[2]["cover_group_since"] == [services.ERR_COVER_SINCE_FUTURE]
    members[2].cover_group_since = date(2024, 3, 1)
    members[1].cover_group_since = date(2024, 3, 1)  # only a welfare child keeps a day of entry
    household = save(users["collector"], regions["v1"], members)
    got = {p.name: (p.cover_group, p.cover_group_since) for p in household.members.all()}
    assert got[members[1].name] == ("veteran", None) and got[members[2].name] == ("welfare_child", date(2024, 3, 1))
    # A change that leaves the group out keeps it (as the API's partial member rows do).
    kept = services.member_input_of(Person.objects.get(name=members[2].name))
    assert (kept.cover_group, kept.cover_group_since) == ("welfare_child", date(2024, 3, 1))
