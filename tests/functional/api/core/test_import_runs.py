"""/api/import-runs/: the flow through the API — upload and preview, confirm, scoping, bad fields."""

import io

import openpyxl
import pytest
from rest_framework.test import APIClient

from core.choices import ImportStatus
from core.models import ImportRun
from enrollment.models import Person, PersonIdentity
from tests.factories import HouseholdFactory, PersonFactory, make_id
from tests.factories.subsidies import PolicyYearFactory, SubsidyCategoryFactory

URL = "/api/import-runs/"


def xlsx(rows, name="f.xlsx"):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = name
    return buf


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


ROSTER = [["户号", "住址", "姓名", "身份证号码", "与户主关系", "联系电话", "本年度参保", "原因说明"]]


def test_roster_upload_preview_confirm(users, regions):
    client = api(users["collector"])
    number = make_id()
    resp = client.post(URL, {"kind": "roster", "village": regions["v1"].code, "year": "2026",
                             "file": xlsx(ROSTER + [["0001", "", "赵一", number, "户主", "", "参保", ""]])}, format="multipart")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == ImportStatus.PREVIEWED and body["confirmable"] == 1 and body["counts"]["new"] == 1
    assert not Person.objects.exists()
    resp = client.post(f"{URL}{body['id']}/confirm/")
    assert resp.status_code == 200 and resp.json()["status"] == ImportStatus.APPLIED
    assert Person.objects.get().id_number == number
    assert client.post(f"{URL}{body['id']}/confirm/").status_code == 400  # once only
    assert [r["id"] for r in client.get(URL).json()["results"]] == [body["id"]]


@pytest.mark.parametrize("fields, field", [
    ({"kind": "nothing"}, "kind"),
    ({"kind": "roster", "year": "2026"}, "village"),
    ({"kind": "roster", "village": "000000000000", "year": "2026"}, "village"),
    ({"kind": "roster", "year": "twenty"}, "village"),
    ({"kind": "identity_list", "policy": "abc"}, "policy"),
])
def test_bad_fields_are_answered_in_chinese(users, regions, fields, field):
    who = "bureau" if fields["kind"] == "identity_list" else "clerk"
    resp = api(users[who]).post(URL, {**fields, "file": xlsx(ROSTER)}, format="multipart")
    assert resp.status_code == 400 and field in resp.json()
    assert not ImportRun.objects.exists()


def test_another_village_and_a_read_only_role_are_refused(users, regions):
    def file():
        return xlsx(ROSTER + [["0001", "", "赵一", make_id(), "户主", "", "参保", ""]])

    resp = api(users["collector"]).post(URL, {"kind": "roster", "village": regions["v2"].code, "year": "2026", "file": file()}, format="multipart")
    assert resp.status_code == 400 and "village" in resp.json()
    resp = api(users["leader"]).post(URL, {"kind": "roster", "village": regions["v1"].code, "year": "2026", "file": file()}, format="multipart")
    assert resp.status_code == 403
    assert not ImportRun.objects.exists()


def test_identity_list_rows_show_masked_ids_and_skip_errors(users, regions):
    policy = PolicyYearFactory(county=regions["county"], year=2025)
    SubsidyCategoryFactory(policy=policy, code="dibao", name="低保对象", amounts={1: "80"})
    person = PersonFactory(name="张三", household=HouseholdFactory(village=regions["v1"]))
    unknown = make_id()
    sheet = [["姓名", "身份证号码", "资助类别", "认定日期"], ["张三", person.id_number, "低保对象", "2024-10-05"],
             ["王五", unknown, "低保对象", "2024-10-05"]]
    client = api(users["dept"])
    resp = client.post(URL, {"kind": "identity_list", "policy": str(policy.pk), "source_list": "民政局名单", "file": xlsx(sheet)},
                       format="multipart")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["confirmable"] == 1 and body["counts"] == {"new": 1, "error": 1}
    assert unknown not in resp.content.decode() and body["rows"][0]["line"] == 3
    resp = client.post(f"{URL}{body['id']}/confirm/")
    # The policy refunds a late identity's difference (the default): the result says how many were proposed.
    assert resp.json()["result"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 1, "difference_refunds": 0}
    assert PersonIdentity.objects.get().source_list == "民政局名单"
    # Another department's user does not see the list.
    assert api(users["collector"]).get(f"{URL}{body['id']}/").status_code == 404


def test_a_departures_list_through_the_api(users, regions):
    person = PersonFactory(household=HouseholdFactory(village=regions["v1"]))
    client = api(users["dept"])
    sheet = [["姓名", "身份证号码", "日期"], [person.name, person.id_number, "2024-11-02"]]
    resp = client.post(URL, {"kind": "departure_list", "year": "2030", "list_kind": "nonsense", "file": xlsx(sheet)}, format="multipart")
    assert resp.status_code == 400 and "list_kind" in resp.json()
    resp = client.post(URL, {"kind": "departure_list", "year": "2030", "list_kind": "deceased", "file": xlsx(sheet)}, format="multipart")
    assert resp.status_code == 201 and resp.json()["counts"] == {"excluded": 1}
    resp = client.post(f"{URL}{resp.json()['id']}/confirm/")
    assert resp.json()["result"]["excluded"] == 1 and Person.objects.get(pk=person.pk).is_deceased
