"""/api/households/, /api/persons/, /api/enrollments/: same rules and scoping as the pages."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from tests.factories import EnrollmentFactory, PersonFactory, make_id
from tests.factories.enrollment import BIRTHS_OF_FIVE, NAMES_OF_FIVE, RELATIONS_OF_FIVE, household_with
from tests.factories.subsidies import PolicyYearFactory

YEAR = 2026


@pytest.fixture
def api():
    def make(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    return make


def five(ids=None):
    ids = ids or [make_id(born=b) for b in BIRTHS_OF_FIVE]
    return [{"name": n, "id_number": i, "relation": r.value, "participation": "enrol"}
            for n, i, r in zip(NAMES_OF_FIVE, ids, RELATIONS_OF_FIVE, strict=True)]


def test_build_a_household_of_five_correct_an_id_and_see_what_each_owes(api, users, regions):
    PolicyYearFactory(county=regions["county"], year=YEAR)
    c = api(users["collector"])
    resp = c.post(f"/api/households/?year={YEAR}", {"village": regions["v1"].pk, "number": "0501", "address": "五组", "members": five()}, format="json")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert len(data["member_rows"]) == 5 and data["split"] is False
    assert [m["owed"]["self_pay"] for m in data["member_rows"]] == ["400.00"] * 5, data["member_rows"]
    assert all("*" in m["id_number"] for m in data["member_rows"])  # masked
    person_id = data["member_rows"][2]["id"]
    right = make_id(born=date(2005, 1, 22), sex="M")  # exactly that birth date, whatever ran before
    bad = right[:17] + ("0" if right[17] != "0" else "1")
    resp = c.patch(f"/api/persons/{person_id}/", {"id_number": bad}, format="json")
    assert resp.status_code == 400 and "校验位" in str(resp.json())
    resp = c.patch(f"/api/persons/{person_id}/", {"id_number": right}, format="json")
    assert resp.status_code == 200 and resp.json()["birth_date"] == "2005-01-22"
    assert Person.objects.get(pk=person_id).id_number == right


def test_invalid_household_writes_nothing_and_errors_are_per_row(api, users, regions):
    members = five()
    members[3]["id_number"] = "123"
    resp = api(users["collector"]).post("/api/households/", {"village": regions["v1"].pk, "number": "0502", "members": members}, format="json")
    assert resp.status_code == 400
    assert "应为18位" in resp.json()["members"]["3"]["id_number"][0]
    assert not Household.objects.exists()


def test_duplicate_id_via_api(api, users, regions):
    elsewhere = PersonFactory(household__village=regions["v3"])
    members = five()
    members[1]["id_number"] = elsewhere.id_number
    resp = api(users["collector"]).post("/api/households/", {"village": regions["v1"].pk, "number": "0503", "members": members}, format="json")
    assert resp.status_code == 400 and elsewhere.masked_id in resp.json()["members"]["1"]["id_number"][0]


def test_update_household_adds_and_removes_members(api, users, regions):
    c = api(users["collector"])
    data = c.post(f"/api/households/?year={YEAR}", {"village": regions["v1"].pk, "number": "0504", "members": five()}, format="json").json()
    gone = data["member_rows"][4]["id"]
    resp = c.patch(f"/api/households/{data['id']}/?year={YEAR}", {"members": [
        {"id": gone, "delete": True},
        {"name": "王宝宝", "id_number": make_id(born=date(2026, 9, 1)), "relation": "grandchild", "participation": "enrol"},
    ]}, format="json")
    assert resp.status_code == 200, resp.content
    names = {m["name"] for m in resp.json()["member_rows"]}
    assert "王宝宝" in names and "王德福" not in names and len(names) == 5


def test_lists_are_scoped_and_masked(api, users, regions):
    _, mine = household_with(regions["v1"], [EnrollmentStatus.PENDING], year=YEAR)
    _, theirs = household_with(regions["v3"], [EnrollmentStatus.PENDING], year=YEAR)
    c = api(users["clerk"])
    for path in ("/api/households/", "/api/persons/", "/api/enrollments/"):
        resp = c.get(path, {"year": YEAR})
        assert resp.status_code == 200
        assert resp.json()["count"] == 1, path
    persons = c.get("/api/persons/", {"year": YEAR}).json()["results"]
    assert persons[0]["id_number"] == mine[0].masked_id and persons[0]["status"] == "pending"
    assert c.get(f"/api/persons/{theirs[0].pk}/").status_code == 404
    assert c.get(f"/api/households/{theirs[0].household_id}/").status_code == 404
    assert c.patch(f"/api/persons/{theirs[0].pk}/", {"name": "x"}, format="json").status_code == 404


def test_person_filters(api, users, regions):
    household_with(regions["v1"], [EnrollmentStatus.CONFIRMED, None], year=YEAR)
    c = api(users["clerk"])
    gaps = c.get("/api/persons/", {"year": YEAR, "status": "gap"}).json()
    assert gaps["count"] == 1 and gaps["results"][0]["status"] is None
    assert c.get("/api/enrollments/", {"year": YEAR, "status": "confirmed"}).json()["count"] == 1
    assert c.get("/api/persons/", {"village": regions["v3"].pk}).status_code == 400  # not a visible village
    someone = Person.objects.filter(household__village=regions["v1"]).first()
    for param in ("q", "search"):  # issue 19: ?search= was ignored and answered with everyone
        found = c.get("/api/persons/", {param: someone.name}).json()
        assert found["count"] >= 1 and all(r["name"] == someone.name for r in found["results"]), param


def test_reveal_full_id_is_logged(api, users, regions):
    person = PersonFactory(household__village=regions["v1"])
    resp = api(users["collector"]).post(f"/api/persons/{person.pk}/reveal/")
    assert resp.json() == {"id_number": person.id_number}
    assert AuditEvent.objects.filter(action="view_full_id", object_id=str(person.pk)).exists()
    assert api(users["leader"]).post(f"/api/persons/{person.pk}/reveal/").status_code == 403


def test_enrollment_participation_and_carry_over(api, users, regions):
    person = PersonFactory(household__village=regions["v1"])
    c = api(users["collector"])
    resp = c.post("/api/enrollments/", {"person": person.pk, "year": YEAR - 1, "participation": "refused"}, format="json")
    assert resp.status_code == 400 and "注明" in str(resp.json())
    resp = c.post("/api/enrollments/", {"person": person.pk, "year": YEAR - 1, "participation": "enrol"}, format="json")
    assert resp.status_code == 201 and resp.json()["status"] == "pending"
    Enrollment.objects.filter(pk=resp.json()["id"]).update(status=EnrollmentStatus.CONFIRMED)
    EnrollmentFactory(person=PersonFactory(household__village=regions["v1"], is_deceased=True, deceased_on=date(2025, 5, 1)),
                      year=YEAR - 1, status=EnrollmentStatus.CONFIRMED)
    resp = c.post("/api/enrollments/carry-over/", {"village": regions["v1"].pk, "to_year": YEAR}, format="json")
    assert resp.status_code == 200 and resp.json()["created"] == 1 and resp.json()["deceased"] == 1
    assert api(users["clerk2"]).post("/api/enrollments/carry-over/", {"village": regions["v1"].pk, "to_year": YEAR}, format="json").status_code == 400


@pytest.mark.parametrize("user_key", ["leader", "bureau", "tax"])
def test_read_only_roles_cannot_write(api, users, regions, user_key):
    c = api(users[user_key])
    assert c.get("/api/households/").status_code == 200
    resp = c.post("/api/households/", {"village": regions["v1"].pk, "number": "9", "members": five()}, format="json")
    assert resp.status_code == 403


def test_department_role_cannot_read_the_roster(api, users):
    assert api(users["dept"]).get("/api/persons/").status_code == 403


def test_list_query_count_is_bounded(api, users, regions, django_assert_max_num_queries):
    for _ in range(30):
        household_with(regions["v1"], [EnrollmentStatus.PENDING, None], year=YEAR)
    c = api(users["clerk"])
    with django_assert_max_num_queries(8):
        assert c.get("/api/persons/", {"year": YEAR}).status_code == 200
    with django_assert_max_num_queries(8):
        assert c.get("/api/households/", {"year": YEAR}).status_code == 200
    with django_assert_max_num_queries(8):
        assert c.get("/api/enrollments/", {"year": YEAR}).status_code == 200


def test_notice_and_pledge_through_the_api(api, users, regions):
    from enrollment.models import HouseholdNotice

    household, _ = household_with(regions["v1"], [EnrollmentStatus.PENDING], year=YEAR)
    url = f"/api/households/{household.pk}/notice/?year={YEAR}"
    resp = api(users["collector"]).post(url, {"notice_receipt": True, "pledge_letter": False, "note": "已上门"}, format="json")
    assert resp.status_code == 200, resp.content
    notice = HouseholdNotice.objects.get(household=household, year=YEAR)
    assert notice.notice_receipt and not notice.pledge_letter and notice.note == "已上门"
    assert api(users["collector3"]).post(url, {"notice_receipt": True, "pledge_letter": True}, format="json").status_code == 404
    assert api(users["leader"]).post(url, {"notice_receipt": True, "pledge_letter": True}, format="json").status_code == 403


def test_transfer_request_through_the_api(api, users, regions):
    from enrollment.models import TransferRequest
    from enrollment.services import ERR_TRANSFER_UNKNOWN

    household, _ = household_with(regions["v1"], [EnrollmentStatus.PENDING], year=YEAR)
    elsewhere = PersonFactory(household__village=regions["v3"])
    url = f"/api/households/{household.pk}/transfer/"
    resp = api(users["collector"]).post(url, {"id_number": make_id(), "relation": "child"}, format="json")
    assert resp.status_code == 400 and ERR_TRANSFER_UNKNOWN in resp.content.decode()
    resp = api(users["collector"]).post(url, {"id_number": elsewhere.id_number.lower(), "relation": "child"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["status"] == "pending" and resp.json()["from_place"].endswith("乙一村")
    assert TransferRequest.objects.get().person == elsewhere
    assert api(users["collector3"]).post(url, {"id_number": elsewhere.id_number}, format="json").status_code == 404


@pytest.mark.parametrize("role, full", [("leader", False), ("bureau", True), ("collector", True)])
def test_persons_and_member_rows_give_the_birth_date_only_with_the_full_id_right(api, users, regions, role, full):
    """The mask hides exactly the birth date: a role that may not see full IDs gets the year."""
    person = PersonFactory(household__village=regions["v1"], id_number=make_id(born=date(1980, 5, 17), sex="M"))
    c = api(users[role])
    shown = [c.get(f"/api/persons/{person.pk}/").json(), c.get("/api/persons/").json()["results"][0]]
    shown += c.get(f"/api/households/{person.household_id}/?year={YEAR}").json()["member_rows"]
    for row in shown:
        assert row["id_number"] == person.masked_id and row["birth_year"] == 1980
        assert row["birth_date"] == ("1980-05-17" if full else None)


def _same_mask(n=3):
    """Valid IDs of people born on different days of 1980 that share one mask (area, last four)."""
    from datetime import timedelta

    from core import idcard

    days = [date(1980, 1, 1) + timedelta(days=i) for i in range(366)]
    by_last4 = {}
    for d in days:
        number = idcard.make("411325", d, 11)
        by_last4.setdefault(number[-4:], []).append(number)
    return next(group[:n] for group in by_last4.values() if len(group) >= n)


def test_an_id_search_confirms_no_guess_at_the_hidden_digits_without_the_full_id_right(api, users, regions):
    """A role that sees masked IDs cannot rebuild one by searching: a full number or a prefix is
    matched on the parts the mask shows, so a right guess and a wrong one give the same list."""
    right, other, wrong = _same_mask()
    for number in (right, other):
        PersonFactory(household__village=regions["v1"], id_number=number)
    found = {}
    for role in ("leader", "bureau"):
        c = api(users[role])
        found[role] = {q: sorted(p["id"] for p in c.get("/api/persons/", {"q": q}).json()["results"])
                       for q in (right, wrong, right[:12], wrong[:12])}
    leader, bureau = found["leader"], found["bureau"]
    assert leader[right] == leader[wrong] and len(leader[right]) == 2
    assert leader[right[:12]] == leader[wrong[:12]] and len(leader[right[:12]]) == 2
    assert len(bureau[right]) == 1 and bureau[wrong] == [] and len(bureau[right[:12]]) >= 1


def test_a_members_cover_group_through_the_api(api, users, regions):
    c = api(users["collector"])
    members = five()
    members[4]["cover_group"] = "welfare_child"
    resp = c.post(f"/api/households/?year={YEAR}", {"village": regions["v1"].pk, "number": "0601", "members": members}, format="json")
    assert resp.status_code == 400 and resp.json()["members"]["4"]["cover_group_since"] == ["儿童福利机构接收的儿童须填写进入机构日期。"]
    members[4]["cover_group_since"] = "2024-03-01"
    data = c.post(f"/api/households/?year={YEAR}", {"village": regions["v1"].pk, "number": "0601", "members": members}, format="json").json()
    child = data["member_rows"][4]
    assert (child["cover_group"], child["cover_group_since"]) == ("welfare_child", "2024-03-01")
    # A partial member row keeps the group it does not mention.
    resp = c.patch(f"/api/households/{data['id']}/?year={YEAR}", {"members": [{"id": child["id"], "phone": "13800000000"}]}, format="json")
    assert resp.status_code == 200, resp.content
    assert Person.objects.get(pk=child["id"]).cover_group == "welfare_child"


def test_a_newborns_guardian_through_the_api_and_the_person_page(api, users, regions, client):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    today = timezone.localdate()
    PolicyYearFactory(county=regions["county"], year=today.year, newborn_guardian_fixed=True)
    parent = PersonFactory(household__village=regions["v1"], id_number=make_id(born=date(1990, 1, 1)))
    household = parent.household
    parent.fill_from_id()
    parent.save()
    baby = PersonFactory(household=household, id_number=make_id(born=today - timedelta(days=1)))
    baby.fill_from_id()
    baby.save()
    c = api(users["collector"])
    resp = c.post(f"/api/persons/{baby.pk}/guardian/", {"guardian": parent.pk}, format="json")
    assert resp.status_code == 400 and "尚未缴费" in resp.json()["guardian"][0]
    EnrollmentFactory(person=parent, year=today.year, status=EnrollmentStatus.PAID)
    resp = c.post(f"/api/persons/{baby.pk}/guardian/", {"guardian": parent.pk}, format="json")
    assert resp.status_code == 200 and resp.json()["guardian"] == parent.pk
    resp = c.post(f"/api/persons/{baby.pk}/guardian/", {"guardian": "x"}, format="json")
    assert resp.status_code == 400
    assert api(users["leader"]).post(f"/api/persons/{baby.pk}/guardian/", {"guardian": parent.pk}, format="json").status_code == 403
    client.force_login(users["collector"])
    page = client.get(reverse("enrollment:person_detail", args=[baby.pk])).content.decode()
    assert f"{parent.name}（{today.year}年度随其享受待遇，一经选择不得变更）" in page and "data-guardian-form" not in page
