"""A declaration moves people to 已申报: its page previews what it will hold and generates only
on confirmation, and only what was previewed (issue 18 point 11)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from collections_app.declarations import services as declaration_services
from collections_app.models import Declaration
from core import disclosure
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories.collections import certify, declare_on_page, household_with, make_category, make_policy, pay


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def _url():
    return reverse("collections:declaration_list")


def test_generating_shows_a_preview_and_writes_nothing(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 3)
    pay(users["collector"], hh, m[:2])
    client.force_login(users["clerk"])
    resp = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year})
    html = resp.content.decode()
    assert resp.status_code == 200 and "核对申报表" in html
    assert 'id="preview-count">2<' in html and 'id="preview-total">800.00<' in html
    assert m[0].name in html and m[1].name in html and m[2].name not in html
    shown = disclosure.for_viewer(users["clerk"], full_ids=disclosure.DECLARATION_ID_FULL).id_number(m[0].id_number)
    assert shown in html
    assert "确认生成申报表（2人，800.00元）" in html and 'name="expect"' in html
    assert not Declaration.objects.exists()
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.PAID}


def test_confirming_generates_what_was_previewed(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, m)
    client.force_login(users["clerk"])
    resp = declare_on_page(client, regions["v1"], policy.year)
    d = Declaration.objects.get()
    assert resp.status_code == 302 and d.person_count == 2 and d.total == Decimal("800.00")
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.DECLARED}


def test_a_confirmation_without_its_preview_generates_nothing(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    client.force_login(users["clerk"])
    resp = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year, "confirm": "1"})
    assert resp.status_code == 200 and "核对申报表" in resp.content.decode()
    assert declaration_services.ERR_PREVIEW_CHANGED in resp.content.decode()
    assert not Declaration.objects.exists()


def test_a_change_after_the_preview_asks_for_a_new_one(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    pay(users["collector"], hh, m[:1])
    client.force_login(users["clerk"])
    preview = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year}).context["preview"]
    pay(users["collector"], hh, m[1:])  # paid while the clerk was reading
    resp = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year, "confirm": "1", "expect": preview.fingerprint})
    html = resp.content.decode()
    assert declaration_services.ERR_PREVIEW_CHANGED in html and 'id="preview-count">2<' in html
    assert not Declaration.objects.exists()


def test_preview_counts_zero_declarations_like_the_generation(users, regions, policy):
    cat = make_category(policy, code="tekun", name="特困人员")  # 400 at 1档: owes nothing
    hh, m = household_with(regions["v1"], 3)
    certify(m[2], cat)
    pay(users["collector"], hh, m[:2])
    preview = declaration_services.declaration_preview(actor=users["clerk"], region=regions["t1"], year=policy.year)
    assert (preview.person_count, preview.zero_count, preview.total) == (3, 1, Decimal("800.00"))
    assert not Declaration.objects.exists() and not Enrollment.objects.filter(person=m[2]).exists(), "the preview writes nothing"
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["t1"], year=policy.year, expect=preview.fingerprint)
    assert (d.person_count, d.zero_count, d.total) == (preview.person_count, preview.zero_count, preview.total)


def test_nothing_to_declare_is_said_on_the_form(client, users, regions, policy):
    client.force_login(users["clerk"])
    html = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year}).content.decode()
    assert declaration_services.ERR_NOTHING_TO_DECLARE.format(unit=regions["v1"].name, year=policy.year) in html


def test_preview_shows_the_first_rows_and_how_many_more(client, users, regions, policy):
    n = declaration_services.PREVIEW_ROWS + 2
    hh, m = household_with(regions["v1"], n)
    pay(users["collector"], hh, m)
    client.force_login(users["clerk"])
    html = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year}).content.decode()
    assert f"以上为前{n - 2}人，另有2人" in html and f'id="preview-count">{n}<' in html
    assert html.count('<td class="mono">') == n - 2


def test_other_township_cannot_preview(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    pay(users["collector"], hh, m)
    client.force_login(users["clerk2"])
    resp = client.post(_url(), {"region": regions["v1"].pk, "year": policy.year})
    assert resp.status_code in (200, 404) and m[0].name not in resp.content.decode()
