"""A chunk of a filing decided: each row's outcome (``matching.decide``) and what it writes (a ``Batch``).

``ChunkDecider`` walks the rows of a chunk with the persons and enrollments read for it (see
``persons``) and the owed amounts of ``matching.FilingBook``, and remembers what earlier rows of
the file did (``seen``); it counts the outcomes and gives the chunk's writes as a ``Batch`` —
enrollments to confirm, problem rows (``problem_row``) — which the writer writes as given.
``TownshipHints`` names the township of a row whose person is not known (for the township's
problem-row page). No database here: the reads come in, the writes go out.
"""

from __future__ import annotations

from enrollment.choices import EnrollmentStatus

from ..models.tax_imports import RowOutcome
from . import readers
from .dates import DateFit
from .matching import decide

# A confirmed row: (enrollment id or None to create one, person id, village id, year, tier,
# status, standard, subsidy, amount due, subsidy category code, paid on, confirmed on, voucher):
# the enrollment's values once confirmed, except its paid on where it already has one (the date
# the money was first taken stays: the writer keeps it, reading it as it writes).
# A problem row: the values of PROBLEM_COLUMNS, in that order (see ``problem_row``).
PROBLEM_COLUMNS = (
    "tax_import_id", "row_number", "outcome", "message", "id_number", "name", "amount", "owed", "paid_on", "voucher",
    "channel", "place", "year", "township_id", "person_id", "enrollment_id", "refund_candidate",
)
ENROLLMENT_AT = PROBLEM_COLUMNS.index("enrollment_id")
HINTS_MAX = 10_000  # (township, place) pairs remembered by TownshipHints

_CONFIRMED, _ALREADY = RowOutcome.CONFIRMED, RowOutcome.ALREADY_CONFIRMED
_TAKEN = (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED)
_STATUS_CONFIRMED = EnrollmentStatus.CONFIRMED.value


class Batch:
    """One chunk's changes. ``links`` are (index of a problem row, (person id, year)): problem rows
    of a person whose enrollment this import creates get its id once it exists (a payment listed
    twice for someone who had no enrollment yet is a refund candidate on the enrollment created)."""

    __slots__ = ("confirmed", "problems", "links")

    def __init__(self):
        self.confirmed: list[tuple] = []
        self.problems: list[list] = []
        self.links: list[tuple[int, tuple[int, int]]] = []

    def __bool__(self):
        return bool(self.confirmed or self.problems)


def truncate(value: str, n: int) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


def problem_row(
    import_id, row, outcome, message: str, *, person=None, enrollment_id=None, township_id=None, owed=None, refund=False,
) -> list:
    """The values of one problem row (PROBLEM_COLUMNS) for ``row``, cut to their columns' sizes;
    the raw cells of what could not be read, as shown."""
    return [
        import_id, row.row_number, outcome.value, truncate(message, 500),
        row.id_number or readers.shown(row.raw_id), row.name[:50], readers.shown(row.raw_amount), owed,
        readers.shown(row.raw_date), row.voucher[:60], row.channel[:40], row.place[:100], row.year, township_id,
        person, enrollment_id, refund,
    ]


class TownshipHints:
    """The township of a row whose person is not known: by the township's name in the row or,
    failing that, by a village whose name the place is or ends with. ``townships`` {name: id};
    ``village_townships`` {village name: its township's id}. The first HINTS_MAX (township, place)
    pairs are remembered."""

    def __init__(self, townships: dict[str, int], village_townships: dict[str, int]):
        self.townships = townships
        self.village_townships = village_townships
        self._known: dict[tuple[str, str], int | None] = {}

    def __call__(self, row) -> int | None:
        key = (row.township, row.place)
        if key in self._known:
            return self._known[key]
        tid = self.townships.get(row.township) if row.township else None
        if tid is None and row.place:
            place = row.place
            tid = next((t for name, t in self.village_townships.items() if place == name or place.endswith(name)), None)
        if len(self._known) < HINTS_MAX:
            self._known[key] = tid
        return tid


class ChunkDecider:
    """Decides the chunks of one filing, in file order, and counts what they did.

    What earlier rows of the file did is remembered in ``seen`` (the first confirmed or
    already-confirmed row of each person and year, which decides every later row of that person
    and year), so a chunk's answers never depend on whether the writes of the chunks before it
    have landed yet — only the id of an enrollment created by an earlier row is filled in when its
    batch is written (``Batch.links``). Without a tax import (a check of a file that is not kept)
    no problem rows are made. ``villages`` {id: {"id", "name", "parent_id"}} are the county's."""

    def __init__(self, *, book, villages: dict, hints: TownshipHints, tax_import=None, today, dates: DateFit | None = None):
        self.book = book
        self.dates = dates
        self.villages = villages
        self.hints = hints
        self.import_id = tax_import.pk if tax_import is not None else None
        self.keep_problems = tax_import is not None
        self.today = today
        self.counts: dict[str, int] = {o.value: 0 for o in RowOutcome}
        self.seen: dict[tuple[int, int], tuple[int, str]] = {}  # (person id, year) → (row number, voucher)
        self.refund_candidates = 0
        self.created = 0  # enrollments the confirmed rows create

    def problem(self, batch: Batch, row, outcome, message: str, **values) -> None:
        if self.keep_problems:
            batch.problems.append(problem_row(self.import_id, row, outcome, message, **values))

    def decide(self, chunk, persons: dict, enrollments: dict | None) -> Batch:
        """The chunk's outcomes and changes. ``persons`` {ID number: (id, student, birth date,
        village id, lives in the county)}, ``enrollments`` {(person id, year): (id, status, tier,
        voucher, due, standard, subsidy, code)} as ``persons.lookup_chunk`` gives them; ``enrollments``
        None: the persons are the county roster's, each holding its enrollment of the roster's year
        (the chunk's only year) as a sixth item."""
        batch = Batch()
        confirm = batch.confirmed.append
        # Hot: run for each of a county's rows, so what each row reads is held in locals.
        counts, seen, problem, hint, villages, today = self.counts, self.seen, self.problem, self.hints, self.villages, self.today
        persons_get, seen_get, owed, roster_held = persons.get, seen.get, self.book.owed, enrollments is None
        link = self.keep_problems
        fit = self.dates.check if self.dates is not None else None
        refund_candidates = created = 0
        for row in chunk:
            if row.errors is not None:
                counts[RowOutcome.INVALID] += 1
                problem(batch, row, RowOutcome.INVALID, row.error, township_id=hint(row))
                continue
            if fit is not None:
                fit(row.row_number, row.year, row.paid_on or row.treasury_on)
            p = persons_get(row.id_number)
            if p is None or not p[4]:
                decision = decide(year=row.year, amount=row.amount, voucher=row.voucher, online=row.online, known=False, other_county=p is not None)
                counts[decision.outcome] += 1
                problem(batch, row, decision.outcome, decision.message, township_id=hint(row))
                continue
            pid, student, birth, village_id = p[0], p[1], p[2], p[3]  # a roster person also holds the enrollment
            year = row.year
            key = (pid, year)
            earlier = seen_get(key)
            e = p[5] if roster_held else enrollments.get(key)
            tier = row.tier or (e[2] if e else 1)
            owed_value, owed_detail, owed_error = None, None, ""
            status = e[1] if e else None
            paid_on = row.paid_on or row.treasury_on
            if earlier is not None:
                pass  # decided by the earlier row: no amount to check
            elif e is not None and e[4] is not None and e[2] == tier and status in _TAKEN:
                owed_value = e[4]  # what was owed when the money was taken
            else:
                owed_value, owed_detail, owed_error = owed(pid, year, tier, student, birth, paid_on)
            decision = decide(
                year=year, amount=row.amount, voucher=row.voucher, online=row.online, known=True,
                earlier_in_file=earlier, status=status, enrolled_voucher=e[3] if e else "",
                owed=owed_value, owed_error=owed_error, tier=tier,
            )
            outcome = decision.outcome
            counts[outcome] += 1
            if outcome == _CONFIRMED or outcome == _ALREADY:
                if earlier is None:
                    seen[key] = (row.row_number, row.voucher)  # only a payment that counts (issue: row order)
                if outcome == _ALREADY:
                    continue
                confirmed_on = row.treasury_on or row.paid_on or today
                paid_on = paid_on or confirmed_on
                if owed_detail is not None:
                    std, sub, due = owed_detail.standard, owed_detail.subsidy, owed_detail.self_pay
                    code = owed_detail.category.code if owed_detail.category else ""
                else:
                    std, sub, due, code = e[5], e[6], e[4], e[7]
                if e is None:
                    created += 1
                confirm(
                    (e[0] if e else None, pid, village_id, year, tier, _STATUS_CONFIRMED, std, sub, due, code, paid_on,
                     confirmed_on, row.voucher)
                )
                continue
            refund_candidates += decision.refund_candidate
            if e is None and decision.refund_candidate and link:
                batch.links.append((len(batch.problems), key))  # the enrollment an earlier row creates
            problem(
                batch, row, outcome, decision.message, person=pid, enrollment_id=e[0] if e else None,
                township_id=villages[village_id]["parent_id"], owed=owed_value if outcome == RowOutcome.AMOUNT_MISMATCH else None,
                refund=decision.refund_candidate,
            )
        self.refund_candidates += refund_candidates
        self.created += created
        return batch
