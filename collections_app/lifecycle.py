"""The receipt's lifecycle, written once: the states a receipt can be in, the transitions allowed
from each, and the one way every service takes its row locks.

A receipt's state is read from three places: its own status (valid / voided), whether its cash
was remitted (its remittance), and how far its persons' enrollments got with the tax office —
declared and waiting for an answer, accepted by the tax office, in treasury, refunded. The
furthest person decides (a household's receipt with one person declared is declared).

    issue ──> valid ──> remitted            (cash; a remitted receipt's money is in the account)
                │  ╲
                │   ╲──> declared ──> accepted ──> confirmed ──> refunded
                │          │ (answered as failed: back to valid)
                └──> voided (only while valid and unremitted)

Remitting and declaring are independent (a declared receipt's cash may be remitted later, a
non-cash receipt is never remitted), so a state is a (stage, remitted) pair.

Locks, in the one order every service takes them (so two requests never wait on each other in a
circle, and every check is made on rows nobody else can change until the transaction ends):

1. the county's tax-import gate (PostgreSQL advisory lock): shared by a void, an issue and a
   refund paid out; held exclusively by a tax filing being applied, which confirms enrollments
   in bulk without row locks (``tax_import.services``) — so those wait for it, or it for them;
2. receipt rows, by primary key;
3. person rows, by primary key (issuing only);
4. enrollment rows, by primary key;
then the rows a service alone writes (declaration lines, refunds).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, models

from enrollment.choices import PAID_STATUSES, EnrollmentStatus
from enrollment.models import Enrollment, Person

from .choices import LineResult, ReceiptStatus
from .models import DeclarationLine, Receipt, ReceiptLine

ERR_ALREADY_VOIDED = "该凭证已作废。"
ERR_VOID_CONFIRMED = "凭证中{name}的缴费已入库，不能作废；请走退费流程。"
ERR_VOID_DECLARED = (
    "凭证中{name}已申报税务（申报表 #{declaration}），尚无回执，不能作废。请等待税务局回执："
    "回执为导入失败的，再作废并重新开票；导入成功的，走退费流程。"
)
ERR_VOID_DECLARED_ELSEWHERE = "凭证中{name}状态为“已申报”，不能作废；请等待税务局回执。"
ERR_VOID_ACCEPTED = "凭证中{name}在申报表 #{declaration}中已由税务导入成功，不能作废；请走退费流程。"
ERR_VOID_REMITTED = (
    "凭证 {number} 的现金已报解（回单号 {slip}），不能作废：作废会使该笔报解与所含凭证不符，"
    "该人员又会变为待缴费而被重复收款。请照常申报；确属收错或多收的，入库后走退费流程。"
)
ERR_REMIT_RECEIPT = "凭证 {number} 不是该收款人未报解的有效现金凭证。"
ERR_ANSWER_VOIDED = (
    "第{row}行：{name}的凭证已在回执失败后作废（现为“{status}”），不能再标为导入成功；"
    "请与税务局核实，重新收款后再申报。"
)
ERR_TAX_IMPORT_RUNNING = "本县税务缴费数据正在导入，请等导入完成（通常不超过一分钟）后再操作。"

# Advisory lock keys: (namespace, county id).
TAX_GATE_NAMESPACE = 0x63620001


class Stage(models.TextChoices):
    """How far a receipt got, from its own status and its persons' enrollments."""

    VALID = "valid", "有效"
    DECLARED = "declared", "已申报待回执"
    ACCEPTED = "accepted", "税务导入成功"
    CONFIRMED = "confirmed", "已入库"
    REFUNDED = "refunded", "已退费"
    VOIDED = "voided", "已作废"


class Transition(models.TextChoices):
    REMIT = "remit", "报解"
    DECLARE = "declare", "申报"
    ANSWER = "answer", "税务回执"
    CONFIRM = "confirm", "入库"
    VOID = "void", "作废"


# Which stages are further along than which (a receipt's stage is its furthest person's).
_ORDER = [Stage.VALID, Stage.DECLARED, Stage.ACCEPTED, Stage.CONFIRMED, Stage.REFUNDED]

_LIVE = (Stage.VALID, Stage.DECLARED, Stage.ACCEPTED, Stage.CONFIRMED)

# The allowed transitions: from which (stage, remitted) states each may be taken. Issuing makes a
# new receipt (valid, unremitted) for persons with no valid receipt, checked on their enrollments.
ALLOWED: dict[str, frozenset[tuple[str, bool]]] = {
    # Cash of a receipt not voided and not yet remitted, whatever the tax office did since.
    Transition.REMIT: frozenset((s, False) for s in _LIVE),
    # Paid persons (an answer of "failed" brings a declared one back to valid).
    Transition.DECLARE: frozenset((Stage.VALID, r) for r in (False, True)),
    # The tax office's answer to a declared person (again, when it corrects an answer); never to a
    # person whose receipt was voided after a failed answer.
    Transition.ANSWER: frozenset((s, r) for s in _LIVE for r in (False, True)),
    # In treasury: the tax filing of a paid, declared or accepted person.
    Transition.CONFIRM: frozenset((s, r) for s in (Stage.VALID, Stage.DECLARED, Stage.ACCEPTED) for r in (False, True)),
    # Only a valid receipt whose cash is still with the collector and whose persons the tax
    # office has not seen (or answered as failed).
    Transition.VOID: frozenset({(Stage.VALID, False)}),
}


@dataclass(frozen=True)
class State:
    stage: str
    remitted: bool
    # For the messages: the person and declaration that put the receipt at its stage.
    name: str = ""
    declaration: int | None = None
    line_on_file: bool = True

    @property
    def key(self) -> tuple[str, bool]:
        return (self.stage, self.remitted)


def allowed(transition: str, state: State) -> bool:
    return state.key in ALLOWED[transition]


def enrollment_stage(status: str) -> str:
    """The stage an enrollment's status puts its receipt at (before the declaration lines are read)."""
    return {
        EnrollmentStatus.CONFIRMED: Stage.CONFIRMED,
        EnrollmentStatus.REFUNDED: Stage.REFUNDED,
        EnrollmentStatus.DECLARED: Stage.DECLARED,
    }.get(status, Stage.VALID)


def _further(a: str, b: str) -> bool:
    return _ORDER.index(a) > _ORDER.index(b)


def receipt_state(receipt: Receipt, enrollments) -> State:
    """The state of ``receipt`` with ``enrollments`` (its persons', with ``person`` loaded), as the
    database holds them now: call it on rows locked by ``lock`` to act on it."""
    remitted = receipt.remittance_id is not None
    if receipt.status == ReceiptStatus.VOIDED:
        return State(Stage.VOIDED, remitted)
    stage, name, declaration = Stage.VALID, "", None
    for e in enrollments:
        s = enrollment_stage(e.status)
        if s in (Stage.CONFIRMED, Stage.REFUNDED) and _further(s, stage):
            stage, name, declaration = s, e.person.name, None
    if stage in (Stage.CONFIRMED, Stage.REFUNDED):
        return State(stage, remitted, name)
    names = {e.pk: e.person.name for e in enrollments}
    open_lines = (
        DeclarationLine.objects.filter(enrollment__in=list(names))
        .exclude(result=LineResult.FAILED)
        .order_by("enrollment_id", "-declaration_id")
        .values_list("enrollment_id", "declaration_id", "result")
    )
    for enrollment_id, declaration_id, result in open_lines:
        s = Stage.ACCEPTED if result == LineResult.ACCEPTED else Stage.DECLARED
        if _further(s, stage) or (s == stage and declaration is None):
            stage, name, declaration = s, names[enrollment_id], declaration_id
    if stage == Stage.VALID:
        answered = set(
            DeclarationLine.objects.filter(enrollment__in=list(names)).values_list("enrollment_id", flat=True)
        )
        for e in enrollments:
            if e.status == EnrollmentStatus.DECLARED and e.pk not in answered:  # declared with no line on file
                return State(Stage.DECLARED, remitted, e.person.name, None, line_on_file=False)
    return State(stage, remitted, name, declaration)


def void_refusal(receipt: Receipt, state: State) -> str | None:
    """Why ``receipt`` in ``state`` cannot be voided, as the clerk is told; None when it can."""
    if allowed(Transition.VOID, state):
        return None
    if state.stage == Stage.VOIDED:
        return ERR_ALREADY_VOIDED
    if state.stage in (Stage.CONFIRMED, Stage.REFUNDED):
        return ERR_VOID_CONFIRMED.format(name=state.name)
    if state.stage == Stage.ACCEPTED:
        return ERR_VOID_ACCEPTED.format(name=state.name, declaration=state.declaration)
    if state.stage == Stage.DECLARED:
        if not state.line_on_file:
            return ERR_VOID_DECLARED_ELSEWHERE.format(name=state.name)
        return ERR_VOID_DECLARED.format(name=state.name, declaration=state.declaration)
    return ERR_VOID_REMITTED.format(number=receipt.number, slip=receipt.remittance.slip_number)


def remit_allowed(receipt: Receipt) -> bool:
    """Remitting looks at the receipt alone: not voided, not remitted (any stage of its persons)."""
    stage = Stage.VOIDED if receipt.status == ReceiptStatus.VOIDED else Stage.VALID
    return allowed(Transition.REMIT, State(stage, receipt.remittance_id is not None))


def answer_refusal(line, enrollment: Enrollment, *, row: int) -> str | None:
    """An answer of "accepted" for a line whose person's receipt was voided after a failed answer
    (the person is pending again, a second receipt may follow): refused. A zero-amount line has
    no receipt and is always answerable."""
    if line.amount and enrollment.status not in PAID_STATUSES:
        return ERR_ANSWER_VOIDED.format(row=row, name=line.name, status=enrollment.get_status_display())
    return None


# --- Locks ------------------------------------------------------------------------------------


@dataclass
class Locked:
    receipts: dict
    persons: list
    enrollments: list

    def receipt(self, pk) -> Receipt | None:
        return self.receipts.get(pk)


def lock(*, county_id: int | None = None, receipts=(), persons=(), enrollments=()) -> Locked:
    """Lock what one lifecycle step reads and writes, in the one order (module docstring), and
    return the rows as they stand under the locks (each argument: ids, rows or a query of ids). ``county_id`` takes the county's tax-import
    gate (shared); refused with ``ERR_TAX_IMPORT_RUNNING`` while a filing is being applied there.
    Call inside the service's transaction."""
    if county_id is not None:
        tax_gate_shared(county_id)
    # No joined rows on receipts: PostgreSQL re-reads a locked row changed meanwhile, not the rows
    # joined to it (a remittance joined would be the one before the wait). A person joined to an
    # enrollment is only read for its name.
    locked_receipts = {r.pk: r for r in _locked(Receipt.objects.select_for_update(), receipts)}
    locked_persons = _locked(Person.objects.select_for_update(), persons)
    locked_enrollments = _locked(Enrollment.objects.select_for_update(of=("self",)).select_related("person"), enrollments)
    return Locked(locked_receipts, locked_persons, locked_enrollments)


def _locked(qs, which) -> list:
    """Rows of ``qs`` named by ``which`` — ids, rows, or a query of ids (a subquery: a township's
    declaration names more rows than a query may carry parameters) — locked in primary-key order."""
    if isinstance(which, models.QuerySet):
        return list(qs.filter(pk__in=which).order_by("pk"))
    ids = sorted({_pk(x) for x in which})
    return list(qs.filter(pk__in=ids).order_by("pk")) if ids else []


def lock_receipt(receipt) -> tuple[Receipt, list[Enrollment], State]:
    """Lock one receipt and its persons' enrollments (gate, receipt, enrollments) and read its state."""
    pk = _pk(receipt)
    county_id = Receipt.objects.filter(pk=pk).values_list("county_id", flat=True).first()
    enrollment_ids = list(ReceiptLine.objects.filter(receipt_id=pk).values_list("enrollment_id", flat=True))
    held = lock(county_id=county_id, receipts=[pk], enrollments=enrollment_ids)
    locked = held.receipt(pk)
    return locked, held.enrollments, receipt_state(locked, held.enrollments)


def tax_gate_shared(county_id: int) -> None:
    """Held until the transaction ends; a filing being applied in the county holds it exclusively."""
    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time anyway
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock_shared(%s::int4, %s::int4)", [TAX_GATE_NAMESPACE, county_id])
        (ok,) = cur.fetchone()
    if not ok:
        raise ValidationError(ERR_TAX_IMPORT_RUNNING)


def tax_gate_exclusive(county_id: int) -> None:
    """Taken by a tax filing's apply before it reads the roster: waits for the voids and issues
    under way in the county, and keeps new ones out until it commits."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", [TAX_GATE_NAMESPACE, county_id])


def _pk(obj) -> int:
    return obj if isinstance(obj, int) else int(getattr(obj, "pk", obj))
