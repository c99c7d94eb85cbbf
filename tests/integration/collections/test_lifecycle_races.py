"""Every pair of receipt-lifecycle transitions that can race, on PostgreSQL, in both orders.

``_held`` runs the first transition in a transaction kept open (its locks held) while the second
starts in another thread and runs into them; then the first commits and the second finishes on
what the first left. ``_together`` starts both at once, round after round (no order forced: a
deadlock or a lost check shows up here). The invariants: never voided and remitted, never a
person paid twice, every refusal one of the lifecycle's Chinese messages."""

import io
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from collections_app import lifecycle
from collections_app.cash import services as cash_services
from collections_app.choices import LineResult, ReceiptStatus
from collections_app.declarations import answers as answers
from collections_app.declarations import services as declaration_services
from collections_app.models import DeclarationLine, Receipt, Refund, Remittance
from collections_app.tax_import import readers
from collections_app.tax_import.run import run_filing
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.factories.collections import household_with, make_policy, pay
from tests.unit.collections.tax_import_files import workbook_bytes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6
ORDERS = ["a_first", "b_first"]


@pytest.fixture
def policy(regions):
    return make_policy(regions["county"])


def _outcome(fn):
    try:
        return fn()
    except Exception as exc:  # the outcome is asserted on
        return exc


def _held(first, second, *, hold=0.4):
    """(outcome of first, outcome of second): ``second`` starts while ``first``'s transaction is
    still open, and runs into its locks."""
    out, held, release = {}, threading.Event(), threading.Event()

    def run_first():
        try:
            with transaction.atomic():
                out["first"] = first()
                held.set()
                release.wait(20)
        except Exception as exc:  # noqa: BLE001 - asserted on
            out["first"] = exc
        finally:
            held.set()
            connection.close()

    def run_second():
        try:
            out["second"] = _outcome(second)
        finally:
            connection.close()

    t1 = threading.Thread(target=run_first)
    t1.start()
    held.wait(20)
    t2 = threading.Thread(target=run_second)
    t2.start()
    time.sleep(hold)
    release.set()
    t1.join(60)
    t2.join(60)
    return out["first"], out["second"]


def _together(a, b):
    barrier = threading.Barrier(2)
    out = {}

    def run(key, fn):
        try:
            barrier.wait(20)
            out[key] = _outcome(fn)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=("a", a)), threading.Thread(target=run, args=("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out["a"], out["b"]


def _in_order(order, a, b):
    """(outcome of a, outcome of b), with a's transaction first when ``order`` is a_first."""
    if order == "a_first":
        return _held(a, b)
    got_b, got_a = _held(b, a)
    return got_a, got_b


def _refused(outcome, *messages):
    assert isinstance(outcome, ValidationError), outcome
    assert outcome.messages and all(m in messages for m in outcome.messages), outcome.messages


def _ok(outcome):
    assert not isinstance(outcome, Exception), outcome
    return outcome


def _never_voided_and_remitted():
    assert not Receipt.objects.filter(status=ReceiptStatus.VOIDED, remittance__isnull=False).exists()


def _never_paid_twice():
    """No enrollment on two valid receipts; a valid receipt's persons are paid; a voided one's are not (unless another valid receipt or the tax office paid them)."""
    for e in Enrollment.objects.all():
        valid = e.receipt_lines.filter(receipt__status=ReceiptStatus.VALID).count()
        assert valid <= 1, e
        if valid:
            assert e.status in (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED, EnrollmentStatus.CONFIRMED), e.status
        elif e.receipt_lines.exists() and not e.tax_voucher:
            assert e.status == EnrollmentStatus.PENDING, e.status


def _check():
    _never_voided_and_remitted()
    _never_paid_twice()


# --- void × remit ------------------------------------------------------------------------------


def _void(users, receipt):
    return lambda: cash_services.receipt_void(actor=users["clerk"], receipt=receipt, reason="收错")


def _remit(users, receipts, slip):
    c = users["collector"]
    return lambda: cash_services.remittance_record(
        actor=c, collector=c, deposited_on=timezone.localdate(), amount=sum(r.total for r in receipts), slip_number=slip,
        receipts=receipts,
    )


@pytest.mark.parametrize("order", ORDERS)
def test_void_and_remit(users, regions, policy, order):
    for i in range(ROUNDS):
        hh, m = household_with(regions["v1"], 1)
        r = pay(users["collector"], hh, m)
        voided, remitted = _in_order(order, _void(users, r), _remit(users, [r], f"S{order}{i}"))
        r.refresh_from_db()
        if order == "a_first":
            _ok(voided)
            _refused(remitted, lifecycle.ERR_REMIT_RECEIPT.format(number=r.number))
            assert r.status == ReceiptStatus.VOIDED and r.remittance_id is None
        else:
            _ok(remitted)
            _refused(voided, lifecycle.ERR_VOID_REMITTED.format(number=r.number, slip=f"S{order}{i}"))
            assert r.status == ReceiptStatus.VALID and r.remittance_id is not None
        _check()


def test_void_and_remit_at_once(users, regions, policy):
    for i in range(ROUNDS * 2):
        hh, m = household_with(regions["v1"], 1)
        r = pay(users["collector"], hh, m)
        voided, remitted = _together(_void(users, r), _remit(users, [r], f"T{i}"))
        assert (isinstance(voided, Exception)) != (isinstance(remitted, Exception)), (voided, remitted)
        for o in (voided, remitted):
            if isinstance(o, Exception):
                _refused(o, lifecycle.ERR_REMIT_RECEIPT.format(number=r.number), lifecycle.ERR_VOID_REMITTED.format(number=r.number, slip=f"T{i}"))
        _check()


# --- void × declare ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_void_and_declare(users, regions, policy, order):
    for _ in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 3)
        r = pay(users["collector"], hh, m)
        other_hh, other = household_with(regions["v1"], 1)
        pay(users["collector"], other_hh, other)  # the declaration has someone whatever happens to r
        declare = lambda: declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)  # noqa: E731
        voided, declared = _in_order(order, _void(users, r), declare)
        d = _ok(declared)
        mine = set(Enrollment.objects.filter(person__in=m).values_list("pk", flat=True))
        on_form = set(d.lines.values_list("enrollment_id", flat=True))
        if order == "a_first":
            _ok(voided)
            assert not (mine & on_form)
            assert set(Enrollment.objects.filter(pk__in=mine).values_list("status", flat=True)) == {EnrollmentStatus.PENDING}
        else:
            first = min(m, key=lambda p: Enrollment.objects.get(person=p).pk)
            _refused(voided, lifecycle.ERR_VOID_DECLARED.format(name=first.name, declaration=d.pk))
            assert mine <= on_form
        assert not DeclarationLine.objects.filter(enrollment__status=EnrollmentStatus.PENDING).exclude(result=LineResult.FAILED).exists()
        _check()


def test_void_and_declare_at_once(users, regions, policy):
    for _ in range(ROUNDS):
        hh, m = household_with(regions["v2"], 3)
        r = pay(users["clerk"], hh, m)
        declare = lambda: declaration_services.declaration_create(actor=users["clerk"], region=regions["t1"], year=policy.year)  # noqa: E731
        voided, declared = _together(_void(users, r), declare)
        for o in (voided, declared):
            if isinstance(o, Exception):
                assert isinstance(o, ValidationError), o  # never a deadlock or a database error
        assert not DeclarationLine.objects.filter(enrollment__status=EnrollmentStatus.PENDING).exclude(result=LineResult.FAILED).exists()
        _check()


# --- void × void, remit × remit -----------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_void_and_void(users, regions, policy, order):
    for _ in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 2)
        r = pay(users["collector"], hh, m)
        a, b = _in_order(order, _void(users, r), _void(users, r))
        first, second = (a, b) if order == "a_first" else (b, a)
        _ok(first)
        _refused(second, lifecycle.ERR_ALREADY_VOIDED)
        assert r.history.filter(status=ReceiptStatus.VOIDED).count() == 1
        _check()


@pytest.mark.parametrize("order", ORDERS)
def test_remit_and_remit(users, regions, policy, order):
    for i in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 2)
        r1, r2 = pay(users["collector"], hh, [m[0]]), pay(users["collector"], hh, [m[1]])
        a, b = _in_order(order, _remit(users, [r1, r2], f"A{order}{i}"), _remit(users, [r2], f"B{order}{i}"))
        first, second = (a, b) if order == "a_first" else (b, a)
        won = _ok(first).obj
        _refused(second, lifecycle.ERR_REMIT_RECEIPT.format(number=r2.number))
        assert Remittance.objects.filter(receipts__in=[r1, r2]).distinct().get() == won
        _check()


def test_remit_and_remit_at_once(users, regions, policy):
    for i in range(ROUNDS):
        hh, m = household_with(regions["v1"], 2)
        r1, r2 = pay(users["collector"], hh, [m[0]]), pay(users["collector"], hh, [m[1]])
        a, b = _together(_remit(users, [r2, r1], f"C{i}"), _remit(users, [r1, r2], f"D{i}"))
        assert isinstance(a, Exception) != isinstance(b, Exception), (a, b)
        for o in (a, b):
            if isinstance(o, Exception):
                _refused(o, lifecycle.ERR_REMIT_RECEIPT.format(number=r1.number), lifecycle.ERR_REMIT_RECEIPT.format(number=r2.number))
        assert Remittance.objects.filter(receipts__in=[r1, r2]).distinct().count() == 1
        _check()


# --- void × the tax office's answer and confirmation -----------------------------------------------


def _answer_file(rows):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["公民身份号码", "结果", "失败原因"])
    for row in rows:
        wb.active.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("order", ORDERS)
def test_void_and_answer(users, regions, policy, order):
    """After a failed answer the receipt may be voided, and the tax office may correct its answer
    to "accepted": never both (the person would be accepted and asked to pay again)."""
    for _ in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 1)
        r = pay(users["collector"], hh, m)
        d = declaration_services.declaration_create(actor=users["clerk"], region=regions["v1"], year=policy.year)
        answers.declaration_answer_import(actor=users["clerk"], declaration=d, fileobj=_answer_file([(m[0].id_number, "失败", "姓名不符")]))
        accept = lambda: answers.declaration_answer_import(  # noqa: E731
            actor=users["clerk"], declaration=d, fileobj=_answer_file([(m[0].id_number, "成功", "")])
        )
        voided, answered = _in_order(order, _void(users, r), accept)
        r.refresh_from_db()
        line = d.lines.get(enrollment__person=m[0])
        if order == "a_first":
            _ok(voided)
            _refused(answered, lifecycle.ERR_ANSWER_VOIDED.format(row=2, name=m[0].name, status="待缴费"))
            assert line.result == LineResult.FAILED
        else:
            _ok(answered)
            _refused(voided, lifecycle.ERR_VOID_ACCEPTED.format(name=m[0].name, declaration=d.pk))
            assert line.result == LineResult.ACCEPTED and r.status == ReceiptStatus.VALID
        assert not (line.result == LineResult.ACCEPTED and r.status == ReceiptStatus.VOIDED)
        _check()


def _filing(users, regions, policy, person, voucher):
    data = workbook_bytes([[1, person.name, person.id_number, 1, 400, timezone.localdate().isoformat(), voucher, "微信", ""]])

    def apply():
        sheet = readers.open_sheet(io.BytesIO(data), "xlsx")
        try:
            return run_filing(sheet=sheet, county=regions["county"], default_year=policy.year, actor=users["tax"], dry_run=False)
        finally:
            sheet.close()

    return apply


@pytest.mark.parametrize("order", ORDERS)
def test_void_and_tax_confirmation(users, regions, policy, order):
    """A resident who paid the collector, then (receipt voided, cash returned) online: confirmed
    once, never a refund candidate for the one payment left, never asked to pay again. A void
    during a filing's apply is told to wait."""
    for i in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 1)
        r = pay(users["collector"], hh, m)
        voided, applied = _in_order(order, _void(users, r), _filing(users, regions, policy, m[0], f"W{order}{i}"))
        e = Enrollment.objects.get(person=m[0])
        summary = _ok(applied)
        if order == "a_first":
            _ok(voided)
            assert summary["confirmed"] == 1 and e.status == EnrollmentStatus.CONFIRMED
            assert not Refund.objects.filter(enrollment=e).exists()
        else:
            _refused(voided, lifecycle.ERR_TAX_IMPORT_RUNNING)
            # the filing saw the valid receipt: a second payment, flagged for a refund
            assert summary["duplicate"] == 1 and e.status == EnrollmentStatus.PAID
        _check()


@pytest.mark.parametrize("order", ORDERS)
def test_issue_and_tax_confirmation(users, regions, policy, order):
    """A collector takes cash while the county's filing (the same person paying online) is applied:
    the online payment is confirmed or the cash is; the second is flagged for a refund, never
    silently paid twice."""
    for i in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 1)
        issued, applied = _in_order(order, lambda: pay(users["collector"], hh, m), _filing(users, regions, policy, m[0], f"I{order}{i}"))
        e = Enrollment.objects.get(person=m[0])
        summary = _ok(applied)
        if order == "a_first":
            _ok(issued)
            assert summary["duplicate"] == summary["refund_candidates"] == 1 and e.status == EnrollmentStatus.PAID
        else:
            _refused(issued, lifecycle.ERR_TAX_IMPORT_RUNNING)
            assert summary["confirmed"] == 1 and e.status == EnrollmentStatus.CONFIRMED
            assert not Receipt.objects.filter(household=hh).exists()
        _check()


@pytest.mark.parametrize("order", ORDERS)
def test_issue_and_roster_exclusion(users, regions, policy, order):
    """A clerk marks a person as not enrolling here while a collector takes their cash: the
    payment is never overwritten (a valid receipt on an excluded or pending person)."""
    from enrollment import services as roster
    from enrollment.choices import ExclusionReason

    for _ in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 1)
        roster.enrollment_set(actor=users["clerk"], person=m[0], year=policy.year, participation="enrol")
        exclude = lambda: roster.enrollment_set(  # noqa: E731
            actor=users["clerk"], person=m[0], year=policy.year, participation=ExclusionReason.EMPLOYEE_INSURANCE
        )
        issued, excluded = _in_order(order, lambda: pay(users["collector"], hh, m), exclude)
        e = Enrollment.objects.get(person=m[0])
        if order == "a_first":
            _ok(issued)
            _ok(excluded)  # left as it was: money was taken
            assert e.status == EnrollmentStatus.PAID
        else:
            _ok(excluded)
            assert isinstance(issued, ValidationError) and "不能收款" in issued.messages[0], issued
            assert e.status == EnrollmentStatus.EXCLUDED and not Receipt.objects.filter(household=hh).exists()
        _check()


# --- issue × issue ------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("enrolled", [False, True], ids=["no_enrollment_row", "pending_row"])
def test_issue_and_issue_for_the_same_person(users, regions, policy, order, enrolled):
    from tests.factories import EnrollmentFactory

    for _ in range(ROUNDS // 2):
        hh, m = household_with(regions["v1"], 2)
        if enrolled:
            for p in m:
                EnrollmentFactory(person=p, year=policy.year, village=regions["v1"], status=EnrollmentStatus.PENDING)
        a, b = _in_order(order, lambda: pay(users["collector"], hh, m), lambda: pay(users["clerk"], hh, [m[1]]))
        first, second = (a, b) if order == "a_first" else (b, a)
        _ok(first)
        assert isinstance(second, ValidationError) and all("已缴费" in t and "不能重复收款" in t for t in second.messages), second
        assert Receipt.objects.filter(household=hh).count() == 1
        _check()
