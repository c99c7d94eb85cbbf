"""Ledger, remittance and the double limit."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from collections_app.cash import selectors as cash_selectors
from collections_app.cash import services as cash_services
from collections_app.models import DoubleLimitBreach, Receipt
from collections_app.tasks import check_double_limit
from core import idcard
from enrollment.choices import EnrollmentStatus, PaymentChannel
from enrollment.models import Enrollment
from tests.factories import PersonFactory
from tests.factories.collections import household_with, make_policy, pay


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def _age(receipt, days):
    day = timezone.localdate() - timedelta(days=days)
    Receipt.objects.filter(pk=receipt.pk).update(issued_on=day)
    receipt.refresh_from_db()
    return receipt


def test_ledger_day_totals_by_channel_and_cash_on_hand(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 4)
    pay(c, hh, m[:2])
    pay(c, hh, [m[2]], channel=PaymentChannel.POS)
    void_me = pay(c, hh, [m[3]])
    cash_services.receipt_void(actor=users["clerk"], receipt=void_me, reason="重复")
    day = cash_selectors.ledger_day(collector=c, day=timezone.localdate())
    assert day["count"] == 2 and day["voided"] == 1
    assert day["by_channel"] == {"cash": Decimal("800.00"), "pos": Decimal("400.00")}
    assert day["total"] == Decimal("1200.00") and day["cash_on_hand"] == Decimal("800.00")
    assert cash_selectors.ERR_LEDGER_UNCONFIRMED in day["flags"]


def test_confirm_flags_counted_mismatch_and_later_changes(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    pay(c, hh, [m[0]])
    today = timezone.localdate()
    ledger = cash_services.ledger_confirm(actor=c, day=today, cash_counted="400.00")
    assert ledger.total == Decimal("400.00") and ledger.by_channel == {"cash": "400.00"}
    assert cash_selectors.ledger_day(collector=c, day=today)["flags"] == []
    cash_services.ledger_confirm(actor=c, day=today, cash_counted="350")
    flags = cash_selectors.ledger_day(collector=c, day=today)["flags"]
    assert any("实点现金 350.00" in f and "-50.00" in f for f in flags)
    cash_services.ledger_confirm(actor=c, day=today, cash_counted="400")
    pay(c, hh, [m[1]])  # taken after the day was confirmed
    flags = cash_selectors.ledger_day(collector=c, day=today)["flags"]
    assert any("确认后凭证有变动" in f for f in flags)


def test_reconfirming_a_ledger_keeps_the_earlier_confirmation(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 2)
    pay(c, hh, [m[0]])
    today = timezone.localdate()
    first = cash_services.ledger_confirm(actor=c, day=today, cash_counted="400.00", note="第一次")
    assert first.replaced is None
    assert cash_selectors.ledger_day(collector=c, day=today)["previous"] == []
    pay(c, hh, [m[1]])
    second = cash_services.ledger_confirm(actor=c, day=today, cash_counted="790.00", note="第二次")
    assert second.pk == first.pk and second.replaced["cash_counted"] == Decimal("400.00")
    day = cash_selectors.ledger_day(collector=c, day=today)
    assert day["confirmed"].cash_counted == Decimal("790.00")
    (prev,) = day["previous"]
    assert (prev["receipt_count"], prev["total"], prev["cash_counted"], prev["note"]) == (1, Decimal("400.00"), Decimal("400.00"), "第一次")
    cash_services.ledger_confirm(actor=c, day=today, cash_counted="800.00")
    earlier = cash_selectors.ledger_day(collector=c, day=today)["previous"]
    assert [p["cash_counted"] for p in earlier] == [Decimal("790.00"), Decimal("400.00")]  # newest first


def test_cannot_confirm_future_or_without_capability(users, policy):
    with pytest.raises(ValidationError):
        cash_services.ledger_confirm(actor=users["collector"], day=timezone.localdate() + timedelta(days=1), cash_counted=0)
    with pytest.raises(PermissionDenied):
        cash_services.ledger_confirm(actor=users["bureau"], day=timezone.localdate(), cash_counted=0)


def test_remittance_covers_receipts_and_flags_difference(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 3)
    r1, r2 = pay(c, hh, [m[0]]), pay(c, hh, [m[1]])
    pos = pay(c, hh, [m[2]], channel=PaymentChannel.POS)
    out = cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="790", slip_number="B001", receipts=[r1, r2]
    )
    assert out.obj.covered == Decimal("800.00") and out.warnings == ["解缴金额比所含凭证少 10.00 元（少解）。"]
    assert set(out.obj.receipts.all()) == {r1, r2}
    assert cash_selectors.cash_on_hand_by_collector(user=users["clerk"]) == []
    # a receipt can be remitted once, and only cash
    for bad in ([r1], [pos]):
        with pytest.raises(ValidationError):
            cash_services.remittance_record(
                actor=c, collector=c, deposited_on=timezone.localdate(), amount="400", slip_number="B2", receipts=bad
            )
    over = cash_services.remittance_warnings(Decimal("900"), Decimal("800"))
    assert over == ["解缴金额比所含凭证多 100.00 元（多解）。"]


def test_remittance_scope(users, regions, policy):
    c3 = users["collector3"]
    hh, m = household_with(regions["v3"], 1)
    r = pay(c3, hh, m)
    with pytest.raises(PermissionDenied):
        cash_services.remittance_record(
            actor=users["clerk"], collector=c3, deposited_on=timezone.localdate(), amount="400", slip_number="X", receipts=[r]
        )
    with pytest.raises(ValidationError):
        cash_services.remittance_record(
            actor=users["collector"], collector=users["collector"], deposited_on=timezone.localdate(),
            amount="400", slip_number="X", receipts=[r],
        )


def test_double_limit_selectors_and_task(users, regions, policy):
    c = users["collector"]
    hh, m = household_with(regions["v1"], 3)
    _age(pay(c, hh, [m[0]]), 7)  # two days overdue
    pay(c, hh, [m[1]])
    c3 = users["collector3"]
    hh3, m3 = household_with(regions["v3"], 1)
    pay(c3, hh3, m3)  # fresh, within both limits

    rows = cash_selectors.double_limit_breaches(user=users["clerk"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["collector"], row["village"], row["amount"], row["days_overdue"]) == ("collector", "甲一村", Decimal("800.00"), 2)
    assert cash_selectors.double_limit_breaches(user=users["clerk2"]) == []
    assert len(cash_selectors.cash_on_hand_by_collector(user=users["bureau"])) == 2
    assert cash_selectors.double_limit_breaches(user=users["nobody"]) == []

    assert check_double_limit.delay().get() == {"checked": 2, "breaches": 1, "resolved": 0}
    assert check_double_limit() == {"checked": 2, "breaches": 1, "resolved": 0}  # idempotent
    breach = DoubleLimitBreach.objects.get()
    assert breach.collector == c and breach.days_overdue == 2 and breach.amount == Decimal("800.00") and breach.over_days
    assert list(DoubleLimitBreach.objects.visible_to(users["clerk2"])) == []

    cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount="800", slip_number="B9",
        receipts=cash_selectors.remittable_receipts(user=c, collector=c),
    )
    assert check_double_limit()["resolved"] == 1
    assert DoubleLimitBreach.objects.get().resolved_at is not None


def test_amount_limit_comes_from_policy(users, regions):
    make_policy(regions["county"], remit_amount="1000.00", remit_days=3)
    c = users["collector"]
    hh, m = household_with(regions["v1"], 3)
    pay(c, hh, m)
    (row,) = cash_selectors.double_limit_breaches(user=c)
    assert row["over_amount"] and not row["over_days"] and row["remit_amount"] == Decimal("1000.00")


def test_the_hourly_beat_names_the_task():
    from config.celery import app

    entry = app.conf.beat_schedule["double-limit-check"]
    assert entry["task"] == check_double_limit.name == "collections_app.tasks.check_double_limit"


@pytest.mark.django_db
def test_gaoyang_a_newborn_across_the_year_pays_its_birth_year_first():
    """Gaoyang 004 l.21: 新生儿从出生之日起到办理参保登记及缴费日，跨两个年度的，按规定标准缴纳两个年度的个人缴费部分后，
    分别按两个年度享受 — born 10 December 2023, brought to the desk on 1 March 2024 (inside 180 days,
    after the 2024 window): the 2024 receipt waits for the 2023 one."""
    from unittest import mock

    from collections_app.cash.services import ERR_BIRTH_YEAR_FIRST
    from tests.factories.collections import paid_in
    from tests.factories.subsidies import load_seed_policies

    load_seed_policies()
    parent, collector = paid_in("130628", 2024)
    household = parent.person.household
    baby = PersonFactory(household=household, id_number=idcard.make("130628", date(2023, 12, 10), 101))
    baby.fill_from_id()
    baby.save()
    with mock.patch("django.utils.timezone.localdate", return_value=date(2024, 3, 1)):
        with pytest.raises(ValidationError) as exc:
            cash_services.receipt_quote(actor=collector, household=household, persons=[baby.pk], year=2024)
        said = " ".join(exc.value.messages)
        assert ERR_BIRTH_YEAR_FIRST.format(name=baby.name, id=idcard.mask(baby.id_number), prior=2023, year=2024, amount="")[:30] in said
        assert "2023年度" in said and "再收2024年度" in said
        Enrollment.objects.create(person=baby, year=2023, village=household.village, status=EnrollmentStatus.PAID)
        quote = cash_services.receipt_quote(actor=collector, household=household, persons=[baby.pk], year=2024)
        assert quote.total > 0
