"""The household page: the household and all its members in one form."""

from datetime import date

import pytest
from django.urls import reverse

from core.models import AuditEvent
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from tests.factories import PersonFactory, make_id
from tests.factories.enrollment import BIRTHS_OF_FIVE, NAMES_OF_FIVE, RELATIONS_OF_FIVE, household_with
from tests.factories.subsidies import PolicyYearFactory, SubsidyCategoryFactory

YEAR = 2026


def member_row(i, name, id_number, relation, **extra):
    row = {
        f"m-{i}-person_id": "", f"m-{i}-name": name, f"m-{i}-id_number": id_number, f"m-{i}-relation": relation,
        f"m-{i}-phone": "", f"m-{i}-hukou_place": "", f"m-{i}-deceased_on": "", f"m-{i}-participation": "enrol",
        f"m-{i}-reason_note": "", f"m-{i}-tier": "1",
    }
    row.update({f"m-{i}-{k}": v for k, v in extra.items()})
    return row


def five_post(ids, *, number="0088", initial=1):
    data = {"number": number, "address": "三组", "m-TOTAL_FORMS": "5", "m-INITIAL_FORMS": str(initial),
            "m-MIN_NUM_FORMS": "0", "m-MAX_NUM_FORMS": "40"}
    for i, (name, rel, id_number) in enumerate(zip(NAMES_OF_FIVE, RELATIONS_OF_FIVE, ids, strict=True)):
        data.update(member_row(i, name, id_number, rel.value))
    return data


@pytest.fixture
def ids():
    return [make_id(born=b) for b in BIRTHS_OF_FIVE]


def test_collector_builds_a_household_of_five(client, users, regions, ids):
    client.force_login(users["collector"])
    page = client.get(reverse("enrollment:household_create") + f"?year={YEAR}")
    assert page.status_code == 200 and "data-formset-template" in page.content.decode()
    # What people type: spaces and a lower-case x are fine.
    typed = [f"{i[:6]} {i[6:14]} {i[14:]}".lower() for i in ids]
    resp = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", five_post(typed))
    assert resp.status_code == 302, resp.content.decode()[:3000]
    household = Household.objects.get(number="0088")
    assert household.village == regions["v1"]
    assert sorted(household.members.values_list("id_number", flat=True)) == sorted(ids)
    assert Enrollment.objects.filter(person__household=household, year=YEAR, status=EnrollmentStatus.PENDING).count() == 5
    page = client.get(resp["Location"])
    body = page.content.decode()
    assert "已保存0088号户及5名成员" in body
    assert "尚未设置政策" in body  # no 2026 policy for this county
    assert "王德福" in body


def test_errors_are_shown_inline_and_nothing_is_saved(client, users, regions, ids):
    client.force_login(users["collector"])
    bad = list(ids)
    bad[2] = bad[2][:17] + ("1" if bad[2][17] != "1" else "2")
    bad[4] = bad[4][:6] + bad[4][8:17]  # a 15-digit legacy number (born 1950)
    resp = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", five_post(bad))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "校验位不正确" in body and "15位旧身份证号码" in body and ids[4] in body  # the upgrade is suggested
    assert "王小明" in body and "三组" in body  # nothing typed is lost
    assert not Person.objects.exists() and not Household.objects.exists()


def test_correct_a_mistyped_id_on_the_household_page(client, users, regions, ids):
    client.force_login(users["collector"])
    client.post(reverse("enrollment:household_create") + f"?year={YEAR}", five_post(ids))
    household = Household.objects.get()
    members = list(household.members.order_by("id"))
    data = five_post(ids, initial=5)
    for i, p in enumerate(members):
        data[f"m-{i}-person_id"] = str(p.pk)
    fixed = make_id(born=date(2005, 1, 21), sequence=222)
    data["m-2-id_number"] = fixed
    resp = client.post(reverse("enrollment:household_detail", args=[household.pk]) + f"?year={YEAR}", data)
    assert resp.status_code == 302
    person = Person.objects.get(pk=members[2].pk)
    assert person.id_number == fixed and person.birth_date == date(2005, 1, 21)
    page = client.get(resp["Location"]).content.decode()
    assert "变更记录" in page and "公民身份号码" in page  # the correction is in the history
    assert fixed not in page.split("变更记录")[1]  # history shows masked numbers


def test_duplicate_id_offers_a_transfer(client, users, regions, ids):
    elsewhere = PersonFactory(household__village=regions["v3"])
    client.force_login(users["collector"])
    data = five_post([ids[0], ids[1], elsewhere.id_number, ids[3], ids[4]])
    body = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", data).content.decode()
    assert "乙一村" in body and elsewhere.masked_id in body and "一人只能建一档" in body
    assert Person.objects.count() == 1


def test_adding_and_removing_rows(client, users, regions, ids):
    client.force_login(users["collector"])
    client.post(reverse("enrollment:household_create") + f"?year={YEAR}", five_post(ids))
    household = Household.objects.get()
    members = list(household.members.order_by("id"))
    data = five_post(ids, initial=5)
    for i, p in enumerate(members):
        data[f"m-{i}-person_id"] = str(p.pk)
    data["m-4-DELETE"] = "on"
    newborn = make_id(born=date(2026, 10, 1))
    data.update(member_row(5, "王宝宝", newborn, "grandchild"))
    data.update(member_row(6, "", "", "", participation="enrol"))  # a blank row left over (no relation chosen)
    data["m-TOTAL_FORMS"] = "7"
    resp = client.post(reverse("enrollment:household_detail", args=[household.pk]) + f"?year={YEAR}", data)
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    names = set(household.members.values_list("name", flat=True))
    assert "王宝宝" in names and "王德福" not in names and len(names) == 5


def test_what_each_member_owes_and_the_whole_household_flag(client, users, regions):
    PolicyYearFactory(county=regions["county"], year=YEAR)
    low_income = SubsidyCategoryFactory(policy__county=regions["county"], policy__year=YEAR, name="低保对象", amounts={1: "360.00"})
    household, people = household_with(regions["v1"], [EnrollmentStatus.PAID, EnrollmentStatus.PENDING, None], year=YEAR)
    from enrollment.models import PersonIdentity

    PersonIdentity.objects.create(person=people[1], category=low_income, year=YEAR, certified_on=date(2025, 10, 1))
    client.force_login(users["collector"])
    body = client.get(reverse("enrollment:household_detail", args=[household.pk]) + f"?year={YEAR}").content.decode()
    assert "整户参保提醒" in body
    assert "40.00" in body and "低保对象资助360.00" in body  # 400 − 360
    assert "400.00" in body
    assert "本户未缴成员合计应缴：<strong>440.00</strong>" in body  # 40 + 400; the paid member is not counted
    assert "整户参保）" not in body  # this county has no whole-household rule


def test_whole_household_rule_is_stated_where_the_county_has_it(client, users, regions):
    PolicyYearFactory(county=regions["county"], year=YEAR, whole_household_rule=True)
    household, _ = household_with(regions["v1"], [EnrollmentStatus.PAID, EnrollmentStatus.PENDING], year=YEAR)
    client.force_login(users["collector"])
    body = client.get(reverse("enrollment:household_detail", args=[household.pk]) + f"?year={YEAR}").content.decode()
    assert "整户参保提醒" in body and "本县规定同一户口簿成员须同时参保（整户参保）" in body


def test_edit_form_with_full_ids_is_logged(client, users, regions):
    household, _ = household_with(regions["v1"], [None, None])
    client.force_login(users["collector"])
    client.get(reverse("enrollment:household_detail", args=[household.pk]))
    assert AuditEvent.objects.filter(action="view_full_id", object_id=str(household.pk)).exists()


def test_read_only_roles_see_masked_ids_and_no_form(client, users, regions):
    household, people = household_with(regions["v1"], [None])
    client.force_login(users["leader"])
    body = client.get(reverse("enrollment:household_detail", args=[household.pk])).content.decode()
    assert people[0].id_number not in body and people[0].masked_id in body and "保存全户" not in body
    resp = client.post(reverse("enrollment:household_detail", args=[household.pk]), {})
    assert resp.status_code == 403


def test_notice_receipt_and_pledge_letter(client, users, regions):
    household, _ = household_with(regions["v1"], [None, None])
    client.force_login(users["collector"])
    url = reverse("enrollment:household_notice", args=[household.pk]) + f"?year={YEAR}"
    client.post(url, {"notice_receipt": "on"})
    notice = household.notices.get(year=YEAR)
    assert notice.notice_receipt and not notice.pledge_letter
    listing = client.get(reverse("enrollment:notice_list") + f"?year={YEAR}&missing=1").content.decode()
    assert household.number in listing and "未签" in listing


def test_township_clerk_picks_the_village_and_only_their_own(client, users, regions, ids):
    client.force_login(users["clerk"])
    page = client.get(reverse("enrollment:household_create")).content.decode()
    assert "甲二村" in page and "乙一村" not in page
    data = five_post(ids)
    data["village"] = regions["v3"].pk
    resp = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", data)
    assert resp.status_code == 200 and "village" in resp.context["hh_form"].errors
    assert not Household.objects.exists()
    data["village"] = regions["v2"].pk
    resp = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", data)
    assert resp.status_code == 302 and Household.objects.get().village == regions["v2"]


def test_an_id_is_checked_as_typed_by_the_rule_the_save_uses(client, users, regions):
    url = reverse("enrollment:id_check")
    client.force_login(users["collector"])
    good = make_id(born=date(1978, 3, 2), sex="M")
    assert client.get(url, {"id_number": good}).json() == {"ok": True, "sex": "男", "birth_date": "1978-03-02", "message": "男 · 1978年3月2日出生"}
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert "校验位" in client.get(url, {"id_number": wrong}).json()["message"]
    assert "18位" in client.get(url, {"id_number": good[:10]}).json()["message"]
    elsewhere = PersonFactory(household__village=regions["v3"])
    got = client.get(url, {"id_number": elsewhere.id_number}).json()
    assert got["ok"] is False and elsewhere.masked_id in got["message"] and "一人只能建一档" in got["message"]
    assert elsewhere.id_number not in str(got)
    # A person of another region named as "this row's person" is ignored: still that holder's number.
    assert client.get(url, {"id_number": elsewhere.id_number, "person": elsewhere.pk}).json()["ok"] is False
    mine = PersonFactory(household__village=regions["v1"])
    assert client.get(url, {"id_number": mine.id_number, "person": mine.pk}).json()["ok"] is True  # a member's own number
    client.force_login(users["leader"])
    assert client.get(url, {"id_number": good}).status_code == 403


def test_a_new_row_has_no_relation_until_one_is_chosen(client, users, regions, ids):
    client.force_login(users["collector"])
    page = client.get(reverse("enrollment:household_create") + f"?year={YEAR}").content.decode()
    template = page[page.index("<template data-formset-template>"):]
    assert '<option value="" selected>— 请选择 —</option>' in template
    data = five_post(ids)
    data["m-2-relation"] = ""
    body = client.post(reverse("enrollment:household_create") + f"?year={YEAR}", data).content.decode()
    assert "请选择与户主关系。" in body and not Household.objects.exists()
