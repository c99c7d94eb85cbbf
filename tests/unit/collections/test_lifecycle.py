"""The receipt lifecycle's table of allowed transitions, and what a refused void says."""

import pytest

from collections_app import lifecycle
from collections_app.choices import ReceiptStatus
from collections_app.lifecycle import Stage, State, Transition
from collections_app.models import Receipt, Remittance

V, D, A, C, R, X = Stage.VALID, Stage.DECLARED, Stage.ACCEPTED, Stage.CONFIRMED, Stage.REFUNDED, Stage.VOIDED

# (stage, remitted) → the transitions allowed from it, written out by hand.
EXPECTED = {
    (V, False): {Transition.REMIT, Transition.DECLARE, Transition.ANSWER, Transition.CONFIRM, Transition.VOID},
    (V, True): {Transition.DECLARE, Transition.ANSWER, Transition.CONFIRM},
    (D, False): {Transition.REMIT, Transition.ANSWER, Transition.CONFIRM},
    (D, True): {Transition.ANSWER, Transition.CONFIRM},
    (A, False): {Transition.REMIT, Transition.ANSWER, Transition.CONFIRM},
    (A, True): {Transition.ANSWER, Transition.CONFIRM},
    (C, False): {Transition.REMIT, Transition.ANSWER},
    (C, True): {Transition.ANSWER},
    (R, False): set(),
    (R, True): set(),
    (X, False): set(),
    (X, True): set(),
}


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}-{'remitted' if k[1] else 'held'}")
def test_allowed_transitions(key):
    state = State(*key)
    assert {t for t in Transition if lifecycle.allowed(t, state)} == EXPECTED[key]


def test_every_state_is_in_the_table():
    assert set(EXPECTED) == {(s, r) for s in Stage for r in (False, True)}


def test_never_voided_and_remitted_by_a_transition():
    """No transition leads from a remitted receipt to a void, nor remits a voided one."""
    for stage in Stage:
        assert not lifecycle.allowed(Transition.VOID, State(stage, True))
        assert not lifecycle.allowed(Transition.REMIT, State(stage, True))
    assert not lifecycle.allowed(Transition.REMIT, State(X, False))


@pytest.mark.parametrize("status,remittance,expected", [
    (ReceiptStatus.VALID, None, True),
    (ReceiptStatus.VALID, "S1", False),
    (ReceiptStatus.VOIDED, None, False),
])
def test_remit_looks_at_the_receipt_alone(status, remittance, expected):
    receipt = Receipt(number="N1", status=status)
    if remittance:
        receipt.remittance = Remittance(pk=7, slip_number=remittance)
    assert lifecycle.remit_allowed(receipt) is expected


@pytest.mark.parametrize("state,expected", [
    (State(V, False), None),
    (State(V, True), lifecycle.ERR_VOID_REMITTED.format(number="N1", slip="S9")),
    (State(D, True, "张三", 4), lifecycle.ERR_VOID_DECLARED.format(name="张三", declaration=4)),
    (State(D, False, "张三", None, line_on_file=False), lifecycle.ERR_VOID_DECLARED_ELSEWHERE.format(name="张三")),
    (State(A, False, "张三", 4), lifecycle.ERR_VOID_ACCEPTED.format(name="张三", declaration=4)),
    (State(C, False, "张三"), lifecycle.ERR_VOID_CONFIRMED.format(name="张三")),
    (State(R, True, "张三"), lifecycle.ERR_VOID_CONFIRMED.format(name="张三")),
    (State(X, False), lifecycle.ERR_ALREADY_VOIDED),
])
def test_void_refusals_say_why_and_what_to_do(state, expected):
    receipt = Receipt(number="N1", remittance=Remittance(pk=7, slip_number="S9"))
    assert lifecycle.void_refusal(receipt, state) == expected


def test_refusals_are_chinese_sentences():
    for text in (lifecycle.ERR_VOID_REMITTED, lifecycle.ERR_ANSWER_VOIDED, lifecycle.ERR_TAX_IMPORT_RUNNING):
        assert text.endswith("。") and "请" in text
