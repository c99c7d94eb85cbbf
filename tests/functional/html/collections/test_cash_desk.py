"""The cash desk (收款开票, issue 18 point 4): the roster's search, the live total and 找零, the
confirmation step that issues once, 为本户收款 on the household page, an already-paid household."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from collections_app.cash import services as cash_services
from collections_app.cash import views as cash_views
from collections_app.models import Receipt, ReceiptCounter
from core import disclosure
from tests.factories.collections import confirmed, household_with, make_policy, pay

REQUIRED = "该字段是必填项"


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def _desk(hh):
    return f"{reverse('collections:receipt_create')}?household={hh.pk}"


def _found(client, q) -> str:
    return client.get(reverse("collections:receipt_create"), {"q": q}).content.decode()


@pytest.mark.parametrize("term", ["name", "full_id", "last4", "last6", "number"])
def test_desk_finds_a_household_by_what_the_roster_finds_it_by(client, users, regions, policy, term):
    hh, m = household_with(regions["v1"], 2)
    other, _ = household_with(regions["v1"], 1)
    q = {"name": m[1].name, "full_id": m[1].id_number, "last4": m[1].id_number[-4:],
         "last6": m[1].id_number[-6:], "number": hh.number}[term]
    client.force_login(users["collector"])
    roster = client.get(reverse("enrollment:roster"), {"q": q}).content.decode()
    assert m[1].name in roster, "the roster finds the member"
    found = _found(client, q)
    assert f"?household={hh.pk}" in found, f"the cash desk finds the household by {term} like the roster does"
    assert f"?household={other.pk}" not in found


def test_desk_search_keeps_to_the_users_region(client, users, regions, policy):
    hh, m = household_with(regions["v3"], 1)  # the other township
    client.force_login(users["collector"])
    assert f"?household={hh.pk}" not in _found(client, m[0].id_number[-4:])
    assert f"?household={hh.pk}" not in _found(client, m[0].name)


def test_pick_page_shows_the_total_and_a_tendered_field(client, users, regions):
    make_policy(regions["county"], tier2="775.00")
    hh, m = household_with(regions["v1"], 3)
    client.force_login(users["collector"])
    page = client.get(_desk(hh)).content.decode()
    assert "应收合计" in page and 'id="pay-total">1200.00<' in page, "three members at 1档: 1200.00 before any script"
    assert 'name="tendered"' in page and "实收（元）" in page
    assert 'data-owed="1=400.00;2=775.00"' in page, "each row carries the server's amounts per tier"
    assert "js/cash-desk.js" in page
    assert (Path(settings.BASE_DIR) / "static" / "js" / "cash-desk.js").is_file()
    assert "核对收款" in page and "确认收款并开具凭证" not in page, "the first step does not issue"
    # Back from the confirmation page: the ticks, the tier and 实收 are kept, the figures follow.
    back = client.post(_desk(hh), {"persons": [m[0].pk], f"tier_{m[0].pk}": "2", "channel": "cash", "tendered": "800",
                                   "back": "1", **confirmed()}).content.decode()
    assert 'id="pay-total">775.00<' in back and "找零 <strong" in back and "25.00" in back
    assert Receipt.objects.count() == 0


def test_first_step_is_a_confirmation_that_writes_nothing(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 3)
    client.force_login(users["collector"])
    resp = client.post(_desk(hh), {"persons": [m[0].pk, m[1].pk], "channel": "cash", "tendered": "1000"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "核对收款" in html
    assert m[0].name in html and m[1].name in html and m[2].name not in html
    assert 'id="confirm-total">800.00<' in html and 'id="confirm-change">200.00<' in html
    assert "确认收款并开具凭证" in html and 'name="request_key"' in html and 'name="confirm"' in html
    shown = disclosure.for_viewer(users["collector"]).id_number(m[0].id_number)
    assert f'class="mono">{shown}<' in html, "IDs on the confirmation page pass the disclosure rule"
    assert Receipt.objects.count() == 0 and not ReceiptCounter.objects.filter(last_number__gt=0).exists()


def test_confirming_issues_once_even_when_the_page_is_sent_twice(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    client.force_login(users["collector"])
    form = {"persons": [m[0].pk, m[1].pk], "channel": "cash", "tendered": "1000", **confirmed()}
    first = client.post(_desk(hh), form, follow=True)
    receipt = Receipt.objects.get()
    assert "实收 1000.00 元，找零 200.00 元" in first.content.decode()
    again = client.post(_desk(hh), form)
    assert again.status_code == 302 and again["Location"] == reverse("collections:receipt_detail", args=[receipt.pk])
    assert Receipt.objects.count() == 1
    said = client.get(again["Location"]).content.decode()
    assert cash_views.MSG_REPLAYED.format(number=receipt.number) in said


def test_issuing_needs_the_confirmation_page(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 1)
    client.force_login(users["collector"])
    resp = client.post(_desk(hh), {"persons": [m[0].pk], "channel": "cash", "confirm": "1"})
    assert cash_views.ERR_NOT_CONFIRMED in resp.content.decode() and Receipt.objects.count() == 0


@pytest.mark.parametrize("step", ["check", "confirm"])
def test_tendered_short_of_the_total_is_refused(client, users, regions, policy, step):
    hh, m = household_with(regions["v1"], 2)
    client.force_login(users["collector"])
    form = {"persons": [m[0].pk, m[1].pk], "channel": "cash", "tendered": "500"}
    if step == "confirm":
        form.update(confirmed())
    html = client.post(_desk(hh), form).content.decode()
    assert cash_services.ERR_TENDERED_SHORT.format(tendered="500.00", total="800.00") in html
    assert Receipt.objects.count() == 0 and not ReceiptCounter.objects.filter(last_number__gt=0).exists()


def test_service_refuses_short_cash_and_replays_a_request_key(users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    collector = users["collector"]
    with pytest.raises(cash_services.ValidationError) as exc:
        cash_services.receipt_issue(actor=collector, household=hh, persons=m, channel="cash", year=policy.year,
                                    tendered=Decimal("799.99"))
    assert cash_services.ERR_TENDERED_SHORT.format(tendered="799.99", total="800.00") in exc.value.messages
    first = cash_services.receipt_issue(actor=collector, household=hh, persons=m, channel="cash", year=policy.year,
                                        tendered=Decimal("800"), request_key="k1")
    again = cash_services.receipt_issue(actor=collector, household=hh, persons=m, channel="cash", year=policy.year,
                                        request_key="k1")
    assert again.pk == first.pk and again.replayed and not first.replayed and Receipt.objects.count() == 1


def test_quote_is_what_the_issue_takes(users, regions):
    policy = make_policy(regions["county"], tier2="775.00")
    hh, m = household_with(regions["v1"], 2)
    quote = cash_services.receipt_quote(actor=users["collector"], household=hh, persons=m, year=policy.year, tiers={m[0].pk: 2})
    assert quote.total == Decimal("1175.00") and quote.change(Decimal("1200")) == Decimal("25.00")
    receipt = pay(users["collector"], hh, m, tiers={m[0].pk: 2})
    assert receipt.total == quote.total
    with pytest.raises(cash_services.ValidationError):  # paid now: refused as the issue refuses
        cash_services.receipt_quote(actor=users["collector"], household=hh, persons=m, year=policy.year)


def test_a_paid_household_says_so_and_offers_no_form(client, users, regions, policy):
    hh, m = household_with(regions["v1"], 2)
    client.force_login(users["collector"])
    stale = client.get(_desk(hh))  # the page the collector still has open
    assert 'name="persons"' in stale.content.decode()
    pay(users["collector"], hh, m)
    for resp in (client.get(_desk(hh)), client.post(_desk(hh), {"channel": "cash"}),
                 client.post(_desk(hh), {"persons": [m[0].pk], "channel": "cash"})):
        html = resp.content.decode()
        assert resp.status_code == 200 and cash_views.MSG_ALL_PAID in html
        assert REQUIRED not in html
        assert 'name="persons"' not in html and 'id="pay-next"' not in html, "no form to fill"
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize(("key", "shown"), [("collector", True), ("clerk", True), ("bureau", False), ("leader", False)])
def test_household_page_offers_to_take_payment_only_to_who_may(client, users, regions, policy, key, shown):
    hh, _ = household_with(regions["v1"], 1)
    client.force_login(users[key])
    html = client.get(reverse("enrollment:household_detail", args=[hh.pk])).content.decode()
    assert ("为本户收款" in html) is shown
    if shown:
        assert f"{reverse('collections:receipt_create')}?household={hh.pk}&amp;year=" in html
