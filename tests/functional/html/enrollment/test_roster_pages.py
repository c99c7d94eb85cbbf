"""Roster list, carry-over, export, import, audit and person pages; scoping walked on every route."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.models import AuditEvent
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from tests.factories import EnrollmentFactory, HouseholdFactory, PersonFactory, make_id
from tests.factories.enrollment import TransferRequestFactory, household_with

YEAR = 2026


def populate(village, n, *, year=YEAR):
    for i in range(n):
        household = HouseholdFactory(village=village)
        person = PersonFactory(household=household)
        if i % 3:
            EnrollmentFactory(person=person, year=year, status=EnrollmentStatus.CONFIRMED if i % 2 else EnrollmentStatus.PENDING)


def test_roster_lists_a_village_with_masked_ids_and_gaps(client, users, regions):
    household, people = household_with(regions["v1"], [EnrollmentStatus.CONFIRMED, None], year=YEAR)
    client.force_login(users["collector"])
    body = client.get(reverse("enrollment:roster") + f"?year={YEAR}").content.decode()
    assert people[0].name in body and people[1].name in body
    assert people[0].id_number not in body and people[0].masked_id in body
    assert "缺口" in body and "已入库" in body
    gaps = client.get(reverse("enrollment:roster") + f"?year={YEAR}&status=gap").content.decode()
    assert people[1].name in gaps and people[0].name not in gaps


@pytest.mark.parametrize("q", ["name", "last4", "full", "household"])
def test_roster_search(client, users, regions, q):
    _, people = household_with(regions["v1"], [None, None])
    target = people[1]
    term = {"name": target.name, "last4": target.id_number[-4:], "full": target.id_number, "household": target.household.number}[q]
    client.force_login(users["clerk"])
    body = client.get(reverse("enrollment:roster"), {"q": term, "year": YEAR}).content.decode()
    assert target.name in body


def test_township_clerk_picks_a_village_county_user_a_township(client, users, regions):
    client.force_login(users["clerk"])
    body = client.get(reverse("enrollment:roster")).content.decode()
    assert "甲一村" in body and "甲二村" in body and "乙一村" not in body
    client.force_login(users["bureau"])
    body = client.get(reverse("enrollment:roster")).content.decode()
    assert "甲镇" in body and "乙镇" in body
    body = client.get(reverse("enrollment:roster") + f"?township={regions['t2'].pk}").content.decode()
    assert "乙一村" in body and "甲一村" not in body


def test_roster_query_count_does_not_grow_with_the_village(client, users, regions, django_assert_max_num_queries):
    """Bounded SQL per page: the same number of queries for 10 or 120 residents."""
    client.force_login(users["clerk"])
    url = reverse("enrollment:roster") + f"?village={regions['v1'].pk}&year={YEAR}"
    populate(regions["v1"], 10)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    populate(regions["v1"], 110)
    with django_assert_max_num_queries(12) as large:
        resp = client.get(url)
        assert resp.status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries) + 1
    assert "第 1 /" in resp.content.decode()


@pytest.mark.parametrize("with_policy", [False, True])
def test_household_page_query_count_does_not_grow_with_members(client, users, regions, with_policy, django_assert_max_num_queries):
    """What each member owes is computed for the whole household at once: a household of 12 costs
    no more queries than one of 3, with or without a policy (and its subsidy identities)."""
    from tests.factories.collections import make_policy

    if with_policy:
        make_policy(regions["county"], year=YEAR)
    client.force_login(users["leader"])
    counts = []
    for size in (3, 12):
        household, _ = household_with(regions["v1"], [EnrollmentStatus.PENDING] * size, year=YEAR)
        url = reverse("enrollment:household_detail", args=[household.pk]) + f"?year={YEAR}"
        with django_assert_max_num_queries(30) as captured:
            response = client.get(url)
        assert response.status_code == 200
        if with_policy:
            assert "400.00" in response.content.decode()
        counts.append(len(captured.captured_queries))
    assert counts[1] <= counts[0], counts


def test_carry_over_page(client, users, regions):
    household_with(regions["v1"], [EnrollmentStatus.CONFIRMED, EnrollmentStatus.EXCLUDED], year=YEAR - 1)
    client.force_login(users["collector"])
    page = client.get(reverse("enrollment:carry_over") + f"?year={YEAR}")
    assert page.status_code == 200
    resp = client.post(reverse("enrollment:carry_over") + f"?year={YEAR}",
                       {"village": regions["v1"].pk, "from_year": YEAR - 1, "to_year": YEAR})
    body = resp.content.decode()
    assert "已转入新年度（待缴费）：1人" in body and "上年度不在本地参保，跳过：1人" in body
    assert Enrollment.objects.filter(year=YEAR).count() == 1


def test_carry_over_refuses_a_village_outside_scope(client, users, regions):
    client.force_login(users["clerk"])
    resp = client.post(reverse("enrollment:carry_over"), {"village": regions["v3"].pk, "from_year": YEAR - 1, "to_year": YEAR})
    assert resp.status_code == 200 and "village" in resp.context["form"].errors
    assert not Enrollment.objects.exists()


def test_export_is_masked_scoped_and_logged(client, users, regions):
    _, mine = household_with(regions["v1"], [EnrollmentStatus.PENDING], year=YEAR)
    _, theirs = household_with(regions["v3"], [EnrollmentStatus.PENDING], year=YEAR)
    client.force_login(users["clerk"])
    resp = client.get(reverse("enrollment:roster_export"), {"village": regions["v1"].pk, "year": YEAR})
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert mine[0].masked_id in values and mine[0].id_number not in values and theirs[0].name not in values
    assert AuditEvent.objects.filter(action="export", actor=users["clerk"]).exists()
    full = client.get(reverse("enrollment:roster_export"), {"village": regions["v1"].pk, "year": YEAR, "full_id": "1"})
    values = [c for row in load_workbook(io.BytesIO(full.content)).active.iter_rows(values_only=True) for c in row]
    assert mine[0].id_number in values
    client.force_login(users["leader"])  # leadership may not see full numbers even when asking
    led = client.get(reverse("enrollment:roster_export"), {"village": regions["v1"].pk, "year": YEAR, "full_id": "1"})
    values = [c for row in load_workbook(io.BytesIO(led.content)).active.iter_rows(values_only=True) for c in row]
    assert mine[0].id_number not in values


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["户号", "住址", "姓名", "身份证号码", "与户主关系", "联系电话", "本年度参保", "原因说明"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "roster.xlsx"
    return buf


def test_import_preview_then_confirm_all_or_nothing(client, users, regions):
    client.force_login(users["collector"])
    a, b = make_id(), make_id()
    url = reverse("enrollment:roster_import") + f"?year={YEAR}"
    bad = _xlsx([["0201", "二组", "赵一", a, "户主", "", "参保", ""], ["0201", "二组", "赵二", b[:17] + ("0" if b[17] != "0" else "1"), "配偶", "", "拒绝参保", ""]])
    resp = client.post(url, {"step": "preview", "village": regions["v1"].pk, "file": bad}, follow=True)
    body = resp.content.decode()
    assert "校验位" in body and "原因说明" in body and "第" not in body.split("发现")[0][-1:]
    assert not Person.objects.exists()
    good = _xlsx([["0201", "二组", "赵一", a, "户主", "", "参保", ""], ["0201", "二组", "赵二", b.lower(), "配偶", "", "拒绝参保", "外出"]])
    resp = client.post(url, {"step": "preview", "village": regions["v1"].pk, "file": good}, follow=True)
    assert "预览通过" in resp.content.decode()
    assert not Person.objects.exists()  # the preview wrote nothing
    resp = client.post(reverse("core:import_run_confirm", args=[resp.context["run"].pk]))
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("enrollment:roster"))
    assert Household.objects.get().members.count() == 2
    assert Enrollment.objects.get(person__id_number=b).status == EnrollmentStatus.EXCLUDED
    assert AuditEvent.objects.filter(action="import").exists()


def test_import_refuses_a_person_registered_elsewhere(client, users, regions):
    elsewhere = PersonFactory(household__village=regions["v3"])
    client.force_login(users["collector"])
    resp = client.post(reverse("enrollment:roster_import"), {
        "step": "preview", "village": regions["v1"].pk,
        "file": _xlsx([["0301", "", "钱一", elsewhere.id_number, "户主", "", "", ""]]),
    }, follow=True)
    body = resp.content.decode()
    assert "乙一村" in body and "一人只能建一档" in body
    assert Person.objects.count() == 1


def test_person_page_reveals_full_id_only_on_request_and_logs_it(client, users, regions):
    person = PersonFactory(household__village=regions["v1"])
    client.force_login(users["clerk"])
    url = reverse("enrollment:person_detail", args=[person.pk])
    assert person.id_number not in client.get(url).content.decode()
    assert not AuditEvent.objects.filter(action="view_full_id").exists()
    assert person.id_number in client.post(url, {"reveal": "1"}).content.decode()
    assert AuditEvent.objects.filter(action="view_full_id", object_id=str(person.pk)).count() == 1


def test_audit_list_is_bureau_only_and_county_scoped(client, users, regions):
    from core import audit

    audit.record(actor=users["clerk"], action="export", detail={"what": "roster"})
    client.force_login(users["bureau"])
    body = client.get(reverse("enrollment:audit_list")).content.decode()
    assert "export" in body
    client.force_login(users["clerk"])
    assert client.get(reverse("enrollment:audit_list")).status_code == 403


def test_transfer_list_and_decision(client, users, regions):
    person = PersonFactory(household__village=regions["v3"])
    transfer = TransferRequestFactory(person=person, to_household=HouseholdFactory(village=regions["v1"]))
    client.force_login(users["clerk"])  # requesting side: cannot decide
    assert client.post(reverse("enrollment:transfer_decide", args=[transfer.pk]), {"decision": "approve"}).status_code == 404
    client.force_login(users["collector3"])
    assert person.name in client.get(reverse("enrollment:transfer_list")).content.decode()
    resp = client.post(reverse("enrollment:transfer_decide", args=[transfer.pk]), {"decision": "approve"})
    assert resp.status_code == 302
    person.refresh_from_db()
    assert person.household == transfer.to_household


OBJECT_ROUTES = ["enrollment:household_detail", "enrollment:person_detail", "enrollment:household_notice", "enrollment:transfer_create"]


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("user_key", ["clerk2", "collector3", "nobody"])
def test_every_object_route_is_404_outside_scope(client, users, regions, route, user_key):
    person = PersonFactory(household__village=regions["v1"])
    pk = person.pk if route == "enrollment:person_detail" else person.household_id
    client.force_login(users[user_key])
    url = reverse(route, args=[pk])
    resp = client.post(url, {"t-id_number": make_id(), "t-relation": "child"}) if route in OBJECT_ROUTES[2:] else client.get(url)
    assert resp.status_code in (404, 403) and (resp.status_code == 404 or user_key == "nobody")


@pytest.mark.parametrize("user_key", ["clerk2", "collector3"])
def test_lists_do_not_leak_other_townships(client, users, regions, user_key):
    _, people = household_with(regions["v1"], [None])
    client.force_login(users[user_key])
    for name in ("enrollment:roster", "enrollment:notice_list", "enrollment:transfer_list"):
        body = client.get(reverse(name), {"q": people[0].name, "village": regions["v1"].pk}).content.decode()
        assert people[0].masked_id not in body and f"/persons/{people[0].pk}/" not in body, name
        assert f"/households/{people[0].household_id}/" not in body, name
    export = client.get(reverse("enrollment:roster_export"), {"village": regions["v1"].pk, "q": people[0].name})
    values = [c for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True) for c in row]
    assert people[0].name not in values


@pytest.mark.parametrize("name", ["enrollment:roster", "enrollment:household_create", "enrollment:carry_over", "enrollment:roster_import", "enrollment:audit_list"])
def test_pages_need_login(client, db, name):
    resp = client.get(reverse(name))
    assert resp.status_code == 302 and reverse("login") in resp["Location"]


@pytest.mark.parametrize("name", ["enrollment:household_create", "enrollment:carry_over", "enrollment:roster_import"])
def test_read_only_roles_get_403_on_edit_pages(client, users, name):
    client.force_login(users["leader"])
    assert client.get(reverse(name)).status_code == 403


def test_import_requires_one_head_per_household(client, users, regions):
    from enrollment.resources import ERR_HEADS

    client.force_login(users["collector"])
    url = reverse("enrollment:roster_import") + f"?year={YEAR}"
    no_head = _xlsx([["0401", "", "孙一", make_id(), "配偶", "", "参保", ""], ["0401", "", "孙二", make_id(), "子女", "", "参保", ""]])
    body = client.post(url, {"step": "preview", "village": regions["v1"].pk, "file": no_head}, follow=True).content.decode()
    assert ERR_HEADS.format(number="0401", count=0) in body
    two_heads = _xlsx([["0402", "", "周一", make_id(), "户主", "", "参保", ""], ["0402", "", "周二", make_id(), "户主", "", "参保", ""]])
    body = client.post(url, {"step": "preview", "village": regions["v1"].pk, "file": two_heads}, follow=True).content.decode()
    assert ERR_HEADS.format(number="0402", count=2) in body
    assert not Person.objects.exists()


def test_import_cannot_exclude_a_paid_member(client, users, regions):
    from enrollment.resources import ERR_PAID_EXCLUDED

    household = HouseholdFactory(village=regions["v1"], number="0501")
    paid = PersonFactory(household=household, name="吴一")
    EnrollmentFactory(person=paid, year=YEAR, status=EnrollmentStatus.PAID)
    client.force_login(users["collector"])
    url = reverse("enrollment:roster_import") + f"?year={YEAR}"
    file = _xlsx([["0501", "", "吴一", paid.id_number, "户主", "", "拒绝参保", "不愿意"]])
    body = client.post(url, {"step": "preview", "village": regions["v1"].pk, "file": file}, follow=True).content.decode()
    from enrollment.choices import ExclusionReason

    assert ERR_PAID_EXCLUDED.format(name="吴一", status="已收款", reason=ExclusionReason.REFUSED.label) in body
    assert Enrollment.objects.get(person=paid, year=YEAR).status == EnrollmentStatus.PAID


@pytest.mark.parametrize("role, full", [("leader", False), ("bureau", True)])
def test_pages_and_the_export_give_the_birth_date_only_with_the_full_id_right(client, users, regions, role, full):
    person = PersonFactory(household__village=regions["v1"], id_number=make_id(born=date(1980, 5, 17), sex="M"))
    client.force_login(users[role])
    for url in (reverse("enrollment:person_detail", args=[person.pk]), f"{reverse('enrollment:roster')}?village={regions['v1'].pk}"):
        page = client.get(url).content.decode()
        assert person.masked_id in page and ("1980年5月17日" in page) is full and "1980年" in page
    resp = client.get(reverse("enrollment:roster_export"), {"village": regions["v1"].pk})
    ws = load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in ws[1]]
    (row,) = [[c.value for c in r] for r in ws.iter_rows(min_row=2) if r[2].value == person.name]
    assert row[header.index("出生日期")] == ("1980-05-17" if full else "1980")
