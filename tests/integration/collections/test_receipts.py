import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from collections_app import lifecycle
from collections_app.cash import services as cash_services
from collections_app.choices import ReceiptStatus
from collections_app.declarations import answers as answers
from collections_app.declarations import services as declaration_services
from collections_app.models import Receipt, ReceiptLine
from enrollment.choices import EnrollmentStatus, PaymentChannel
from enrollment.models import Enrollment
from tests.factories import EnrollmentFactory
from tests.factories.collections import certify, household_with, make_category, make_policy, pay


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"], tier2="775.00")

def test_issue_amounts_and_enrollment_fields(users, regions, policy):
    hh, members = household_with(regions["v1"], 2)
    cat = make_category(policy, code="low", name="低收入", amounts={1: "360.00"})
    certify(members[1], cat)
    EnrollmentFactory(person=members[0], year=policy.year, tier=2)
    receipt = pay(users["collector"], hh, members)
    assert receipt.total == Decimal("815.00")  # tier 2: 775, tier 1 with 360 subsidy: 40
    assert receipt.number.startswith(f"{regions['county'].code}-{policy.year}-")
    assert receipt.village == regions["v1"] and receipt.collector == users["collector"]
    e0 = Enrollment.objects.get(person=members[0], year=policy.year)
    e1 = Enrollment.objects.get(person=members[1], year=policy.year)
    assert (e0.status, e0.amount_due, e0.tier) == (EnrollmentStatus.PAID, Decimal("775.00"), 2)
    assert (e1.status, e1.standard, e1.subsidy, e1.amount_due, e1.subsidy_category_code) == (
        EnrollmentStatus.PAID, Decimal("400.00"), Decimal("360.00"), Decimal("40.00"), "low"
    )
    assert e1.village == regions["v1"] and e1.paid_on is not None

def test_numbers_are_sequential_per_county_and_year(users, regions, policy):
    hh, members = household_with(regions["v1"], 3)
    numbers = [pay(users["collector"], hh, [m]).number for m in members]
    assert [n[-7:] for n in numbers] == ["0000001", "0000002", "0000003"]
    assert len(set(numbers)) == 3

def test_cannot_pay_twice(users, regions, policy):
    hh, members = household_with(regions["v1"], 2)
    first = pay(users["collector"], hh, [members[0]])
    with pytest.raises(ValidationError) as exc:
        pay(users["clerk"], hh, members)
    assert "已缴费" in str(exc.value) and first.number in str(exc.value)
    assert Receipt.objects.count() == 1

def test_full_subsidy_person_is_not_charged(users, regions, policy):
    hh, members = household_with(regions["v1"], 1)
    certify(members[0], make_category(policy, code="tk", name="特困", amounts={1: "400.00"}))
    with pytest.raises(ValidationError, match="零申报"):
        pay(users["collector"], hh, members)

def test_person_from_another_household_is_refused(users, regions, policy):
    hh, _ = household_with(regions["v1"], 1)
    _, others = household_with(regions["v1"], 1)
    with pytest.raises(ValidationError, match="不是该户成员"):
        pay(users["collector"], hh, others)

def test_deceased_and_excluded_are_refused(users, regions, policy):
    hh, members = household_with(regions["v1"], 2)
    members[0].is_deceased = True
    members[0].save()
    EnrollmentFactory(person=members[1], year=policy.year, status=EnrollmentStatus.EXCLUDED, exclusion_reason="employee")
    with pytest.raises(ValidationError) as exc:
        pay(users["collector"], hh, members)
    assert "已死亡" in str(exc.value) and "不在本地参保" in str(exc.value)

def test_missing_policy_is_explained(users, regions, policy):
    hh, members = household_with(regions["v1"], 1)
    with pytest.raises(ValidationError, match="征缴政策"):
        pay(users["collector"], hh, members, year=policy.year + 5)

@pytest.mark.parametrize("key", ["bureau", "tax", "leader"])
def test_only_collectors_and_clerks_take_payment(users, regions, policy, key):
    hh, members = household_with(regions["v1"], 1)
    with pytest.raises(PermissionDenied):
        pay(users[key], hh, members)

def test_collector_cannot_take_payment_in_another_village(users, regions, policy):
    hh, members = household_with(regions["v3"], 1)
    with pytest.raises(PermissionDenied):
        pay(users["collector"], hh, members)

def test_self_online_is_not_a_collector_channel(users, regions, policy):
    hh, members = household_with(regions["v1"], 1)
    with pytest.raises(ValidationError):
        pay(users["collector"], hh, members, channel=PaymentChannel.SELF_ONLINE)

def test_void_reopens_enrollments_and_keeps_the_receipt(users, regions, policy):
    hh, members = household_with(regions["v1"], 2)
    receipt = pay(users["collector"], hh, members)
    cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错人")
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.VOIDED and receipt.void_reason == "收错人" and receipt.voided_by == users["clerk"]
    assert ReceiptLine.objects.filter(receipt=receipt).count() == 2
    for m in members:
        e = Enrollment.objects.get(person=m, year=policy.year)
        assert e.status == EnrollmentStatus.PENDING and e.paid_on is None and e.amount_due is None
        assert e.history.filter(status=EnrollmentStatus.PAID).exists()
    # the persons can be paid again, on a new number
    again = pay(users["collector"], hh, members)
    assert again.number != receipt.number

def test_void_rules(users, regions, policy):
    hh, members = household_with(regions["v1"], 1)
    receipt = pay(users["collector"], hh, members)
    with pytest.raises(PermissionDenied):
        cash_services.receipt_void(actor=users["collector"], receipt=receipt, reason="x")
    with pytest.raises(PermissionDenied):
        cash_services.receipt_void(actor=users["clerk2"], receipt=receipt, reason="x")
    with pytest.raises(ValidationError, match="原因"):
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="  ")
    Enrollment.objects.filter(person=members[0]).update(status=EnrollmentStatus.CONFIRMED)
    with pytest.raises(ValidationError, match="入库"):
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="x")
    Enrollment.objects.filter(person=members[0]).update(status=EnrollmentStatus.PAID)
    cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="x")
    with pytest.raises(ValidationError, match="已作废"):
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="x")

def _answer(declaration, rows, users):
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["公民身份号码", "结果", "失败原因"])
    for r in rows:
        wb.active.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return answers.declaration_answer_import(actor=users["clerk"], declaration=declaration, fileobj=buf)

def test_void_is_refused_while_a_person_is_declared(users, regions, policy):
    from collections_app.choices import LineResult

    hh, members = household_with(regions["v1"], 2)
    receipt = pay(users["collector"], hh, members)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    with pytest.raises(ValidationError) as exc:
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    assert exc.value.messages[0] == lifecycle.ERR_VOID_DECLARED.format(name=members[0].name, declaration=d.pk)
    assert "等待税务" in exc.value.messages[0]
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.VALID
    assert set(Enrollment.objects.filter(person__in=members).values_list("status", flat=True)) == {EnrollmentStatus.DECLARED}
    assert cash_services.receipt_void_refusal(receipt=receipt) == exc.value.messages[0]

    # one row answered as failed, the other still pending: still refused
    _answer(d, [(members[0].id_number, "失败", "姓名不符")], users)
    with pytest.raises(ValidationError, match="等待税务"):
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    # both answered as failed: the void goes through, and nothing is left for the tax office to accept
    _answer(d, [(members[1].id_number, "失败", "身份证号码有误")], users)
    assert cash_services.receipt_void_refusal(receipt=receipt) is None
    cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    assert set(Enrollment.objects.filter(person__in=members).values_list("status", flat=True)) == {EnrollmentStatus.PENDING}
    assert set(d.lines.values_list("result", flat=True)) == {LineResult.FAILED}

def test_void_is_refused_once_the_tax_office_accepted(users, regions, policy):
    hh, members = household_with(regions["v1"], 1)
    receipt = pay(users["collector"], hh, members)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    _answer(d, [(members[0].id_number, "失败", "姓名不符")], users)
    _answer(d, [(members[0].id_number, "成功", "")], users)  # corrected answer: accepted after all
    e = Enrollment.objects.get(person=members[0])
    assert e.status == EnrollmentStatus.DECLARED and e.declared_on is not None  # not declared a second time
    with pytest.raises(ValidationError, match="没有待申报"):
        declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    with pytest.raises(ValidationError) as exc:
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    assert exc.value.messages == [lifecycle.ERR_VOID_ACCEPTED.format(name=members[0].name, declaration=d.pk)]

# --- PostgreSQL concurrency -------------------------------------------------------------------

def _run_threads(n, target):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected and asserted on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issue_never_shares_a_number(users, regions, policy):
    n = 8
    households = [household_with(regions["v1"] if i % 2 else regions["v2"], 1) for i in range(n)]
    actors = [users["collector"] if i % 2 else users["clerk"] for i in range(n)]
    results, errors = _run_threads(n, lambda i: pay(actors[i], households[i][0], households[i][1]).number)
    assert not errors, errors
    assert len(results) == n and len(set(results)) == n
    assert sorted(int(x[-7:]) for x in results) == list(range(1, n + 1))

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_paying_for_the_same_person_one_wins(users, regions, policy):
    hh, members = household_with(regions["v1"], 2)
    actors = [users["collector"], users["clerk"]]
    results, errors = _run_threads(2, lambda i: pay(actors[i], hh, members).number)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and "已缴费" in str(errors[0])
    assert Receipt.objects.count() == 1
    assert ReceiptLine.objects.count() == 2

def test_a_remitted_receipt_cannot_be_voided_and_its_person_stays_paid(users, regions, policy):
    from django.utils import timezone

    c = users["collector"]
    hh, members = household_with(regions["v1"], 1)
    receipt = pay(c, hh, members)
    cash_services.remittance_record(actor=c, collector=c, deposited_on=timezone.localdate(), amount="400", slip_number="YH7", receipts=[receipt])
    expected = lifecycle.ERR_VOID_REMITTED.format(number=receipt.number, slip="YH7")
    receipt.refresh_from_db()
    assert cash_services.receipt_void_refusal(receipt=receipt) == expected
    with pytest.raises(ValidationError) as exc:
        cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    assert exc.value.messages == [expected]
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.VALID and receipt.remittance.slip_number == "YH7"
    assert Enrollment.objects.get(person=members[0]).status == EnrollmentStatus.PAID
    with pytest.raises(ValidationError, match="已缴费"):  # no second receipt for the person
        pay(c, hh, members)

def test_an_answer_cannot_accept_a_person_whose_receipt_was_voided_after_failing(users, regions, policy):
    from collections_app.choices import LineResult

    hh, members = household_with(regions["v1"], 1)
    receipt = pay(users["collector"], hh, members)
    d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
    _answer(d, [(members[0].id_number, "失败", "姓名不符")], users)
    cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")
    with pytest.raises(ValidationError) as exc:
        _answer(d, [(members[0].id_number, "成功", "")], users)
    assert exc.value.messages == [lifecycle.ERR_ANSWER_VOIDED.format(row=2, name=members[0].name, status="待缴费")]
    assert d.lines.get().result == LineResult.FAILED
    assert Enrollment.objects.get(person=members[0]).status == EnrollmentStatus.PENDING
