"""The bureau's audit page: labelled actions, deleted objects' changes, filters and paging."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import audit
from core.choices import Role
from tests.factories import CountyFactory, HouseholdFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory

pytestmark = pytest.mark.django_db
URL = reverse("enrollment:audit_list")


def page(client, user, **params):
    client.force_login(user)
    resp = client.get(URL, params)
    assert resp.status_code == 200
    return resp.content.decode()


def test_actions_read_in_chinese(client, users, regions):
    person = PersonFactory(household=HouseholdFactory(village=regions["v1"]))
    audit.record(actor=users["clerk"], action=audit.ACTION_VIEW_FULL_ID, obj=person)
    audit.record(actor=users["clerk"], action=audit.ACTION_EXPORT, detail={"what": "roster"})
    body = page(client, users["bureau"])
    assert "<td>查看完整身份证号码</td>" in body and "<td>导出</td>" in body
    assert ">view_full_id<" not in body and ">export<" not in body
    assert '<option value="view_full_id">查看完整身份证号码</option>' in body
    assert "参保人 " + str(person.pk) in body  # the object's kind, not "enrollment.Person"
    only = page(client, users["bureau"], action=audit.ACTION_EXPORT)
    assert "<td>查看完整身份证号码</td>" not in only and "<td>导出</td>" in only


def test_a_deleted_person_is_listed_for_the_county_bureau_only(client, users, regions):
    person = PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="李已删")
    person._history_user = users["clerk"]
    person.delete()
    body = page(client, users["bureau"], model="enrollment.Person")
    assert "删除 · 参保人 李已删" in body and person.masked_id in body and person.id_number not in body
    other = VillageFactory(parent=TownshipFactory(parent=CountyFactory(code="429002")))
    outsider = UserFactory(role=Role.BUREAU, region=other.parent.parent)
    assert "李已删" not in page(client, outsider)


def test_the_change_list_pages(client, users, regions):
    household = HouseholdFactory(village=regions["v1"])
    for _ in range(55):
        PersonFactory(household=household)
    first = page(client, users["bureau"], model="enrollment.Person")
    assert first.count("新建 · 参保人") == 50 and "第 1 / 2 页，共 55 条" in first
    assert "model=enrollment.Person&amp;cpage=2" in first
    second = page(client, users["bureau"], model="enrollment.Person", cpage=2)
    assert second.count("新建 · 参保人") == 5 and "cpage=1" in second


def test_filters_by_actor_and_date(client, users, regions):
    mine = PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="甲改名前")
    mine._history_user = users["clerk"]
    mine.name = "甲改名后"
    mine.save()
    theirs = PersonFactory(household=HouseholdFactory(village=regions["v3"]), name="乙改名前")
    theirs._history_user = users["clerk2"]
    theirs.name = "乙改名后"
    theirs.save()
    audit.record(actor=users["clerk2"], action=audit.ACTION_EXPORT)
    body = page(client, users["bureau"], actor=users["clerk"].pk)
    assert "甲改名前 → 甲改名后" in body and "乙改名后" not in body and "<td>导出</td>" not in body
    assert f'<option value="{users["clerk"].pk}" selected>' in body
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = page(client, users["bureau"], since=tomorrow)
    assert "没有符合条件的修改记录" in later and "没有符合条件的审计记录" in later
    assert "甲改名后" in page(client, users["bureau"], since=timezone.localdate().isoformat())


@pytest.mark.parametrize("params", [
    {"actor": "abc"}, {"actor": "²"}, {"actor": "99999999999999999999"}, {"since": "2025-13-01"}, {"since": "0001-01-01"},
    {"model": "enrollment.AuditEvent"}, {"model": "nope"}, {"cpage": "999"}, {"cpage": "x"}, {"page": "-1"},
])
def test_odd_filters_are_ignored(client, users, regions, params):
    PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="照常显示")
    assert "照常显示" in page(client, users["bureau"], **params)


def test_actors_of_another_county_are_not_offered_nor_applied(client, users, regions):
    other = VillageFactory(parent=TownshipFactory(parent=CountyFactory(code="429002")))
    stranger = UserFactory(role=Role.TOWNSHIP, region=other.parent, username="stranger")
    PersonFactory(household=HouseholdFactory(village=regions["v1"]), name="本县的人")
    body = page(client, users["bureau"], actor=stranger.pk)
    assert f'value="{stranger.pk}"' not in body and "stranger" not in body
    assert "本县的人" in body  # an actor outside the county is no filter at all
