"""One run over a filing: read it, match each chunk, hand the batches to the writer.

Rows are matched by chunks of ID numbers (see ``persons``) or, for a filing as large as the county,
against the county's roster read once while the sheet loads (see ``roster``); the writer writes
each batch while the next chunk is matched. The caller holds the one transaction."""

from __future__ import annotations

import gc
import sys
from collections import Counter
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.choices import RegionLevel
from core.models import Region
from enrollment.choices import EnrollmentStatus

from .. import lifecycle
from ..models.tax_imports import PROBLEM_OUTCOMES, RowOutcome, TaxImport, TaxImportRow
from ..refunds.services import refund_flag_duplicates
from . import readers, roster
from .matching import FilingBook, decide
from .persons import lookup_chunk
from .writer import Batch, Writer

CHUNK = 5000
DEFER_MAX = 50_000  # rows of persons the county roster lacks kept for the end (then: read per chunk)
COUNT_KEYS = [o.value for o in RowOutcome]


_FROM_ROSTER = object()  # in place of a chunk's reads: the county roster holds all its persons (see lookup)


def _read_roster(writer, *, sheet, villages, book, year):
    """Queue the read of the county's whole roster (see tax_import.roster) when the filing may be
    large enough; it runs on the database thread while the sheet loads. A future (of a roster or
    None), or None."""
    if not writer.pg or year is None or book.policy(year) is None or not roster.large_enough(sheet.size):
        return None
    query = book.identity_query(year)
    return writer.read(
        lambda db: roster.read_if_worth(db, year=year, size=sheet.size, village_ids=villages, identity_query=query)
    )


def _truncate(value: str, n: int) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


_CONFIRMED, _ALREADY = RowOutcome.CONFIRMED, RowOutcome.ALREADY_CONFIRMED
_TAKEN = (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED)


def run_filing(
    *, sheet, county, default_year: int | None, actor=None, dry_run: bool, tax_import: TaxImport | None = None,
    progress=None, chunk_size: int = CHUNK,
) -> dict:
    """Read, match and (unless ``dry_run``) apply one filing. The caller holds the transaction.

    Returns the summary: rows read, a count per outcome, refund candidates, skipped lines.

    Rows are matched by chunks; what earlier rows of the file did is remembered in ``seen`` (the
    first confirmed or already-confirmed row of each person and year, which decides every later
    row of that person and year), so a chunk's answers never depend on whether the writes of the
    chunks before it have landed yet — only the id of an enrollment created by an earlier row is
    filled in when its batch is written (``Batch.links``).
    """
    if not dry_run and not connection.in_atomic_block:
        with transaction.atomic():
            return run_filing(
                sheet=sheet, county=county, default_year=default_year, actor=actor, dry_run=dry_run,
                tax_import=tax_import, progress=progress, chunk_size=chunk_size,
            )
    if not dry_run:
        # Confirming is a transition of the receipt lifecycle made in bulk, without row locks:
        # the county's voids and issues under way finish first, new ones wait for the commit.
        lifecycle.tax_gate_exclusive(county.pk)
    with _cyclic_gc_paused():
        return _run_filing(
            sheet=sheet, county=county, default_year=default_year, actor=actor, dry_run=dry_run,
            tax_import=tax_import, progress=progress, chunk_size=chunk_size,
        )


@contextmanager
def _cyclic_gc_paused():
    """No cyclic garbage collection while a filing is matched: a county's rows, roster and
    ``seen`` are millions of objects alive to the end, and each full collection walks them all
    (measured: ~4.5 s of a 25 s import of 600,000 rows). Matching makes no reference cycles;
    they are freed by reference counting when ``_run_filing`` returns, before collection is back."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _run_filing(*, sheet, county, default_year, actor, dry_run, tax_import, progress, chunk_size) -> dict:
    counts: Counter = Counter({k: 0 for k in COUNT_KEYS})
    refund_candidates = 0
    created = 0
    seen: dict[tuple[int, int], tuple[int, str]] = {}  # (person id, year) → (row number, voucher)
    book = FilingBook(county)
    writer = Writer(
        actor=actor, tax_import=tax_import, reason=f"税务数据导入 #{tax_import.pk if tax_import else '-'}",
        write_enrollments=not dry_run,
    )
    import_id = tax_import.pk if tax_import is not None else None
    villages = {
        v["id"]: v
        for v in Region.objects.filter(level=RegionLevel.VILLAGE, parent__parent=county).values("id", "name", "parent_id")
    }
    townships = {t.name: t.id for t in Region.objects.filter(level=RegionLevel.TOWNSHIP, parent=county)}
    village_by_name = {v["name"]: v["parent_id"] for v in villages.values()}
    hints: dict[tuple[str, str], int | None] = {}
    today = timezone.localdate()
    county_roster = None  # the county's roster when the filing is large (see _read_roster)
    later: list = []  # rows of persons the roster lacks (see lookup)
    done = 0
    sqlite_dates = connection.vendor != "postgresql"

    def township_hint(row) -> int | None:
        key = (row.township, row.place)
        if key not in hints:
            tid = townships.get(row.township) if row.township else None
            if tid is None and row.place:
                tid = next((t for name, t in village_by_name.items() if row.place == name or row.place.endswith(name)), None)
            if len(hints) < 10_000:
                hints[key] = tid
            return tid
        return hints[key]

    def problem(batch, row, decision_outcome, message, *, person=None, enrollment_id=None, township_id=None, owed=None, refund=False):
        if tax_import is None:
            return
        batch.problems.append(
            [
                import_id, row.row_number, decision_outcome.value, _truncate(message, 500),
                row.id_number or readers.shown(row.raw_id), row.name[:50], readers.shown(row.raw_amount), owed,
                readers.shown(row.raw_date), row.voucher[:60], row.channel[:40], row.place[:100], row.year, township_id,
                person, enrollment_id, refund,
            ]
        )

    def lookup(chunk, *, from_roster=True):
        """Queue the reads of a chunk (see Writer.read): (a future giving (persons, enrollments,
        identities), or _FROM_ROSTER; the rows of the chunk to match now)."""
        valid = [r for r in chunk if r.errors is None]
        ids = {r.id_number for r in valid}
        years = {r.year for r in valid}
        for year in years:
            book.policy(year)  # read here, in this thread, before the chunk is matched
        queries = None
        if writer.pg:
            queries = {y: q for y in years if (q := book.identity_query(y)) is not None}
        if from_roster and county_roster is not None and years == {county_roster.year}:
            missing = county_roster.lacks(ids)
            if not missing:
                return _FROM_ROSTER, chunk
            if len(later) < DEFER_MAX:
                # Not in the roster (another county, not registered, entered since): their rows
                # are matched after all others (see chunks), so that no chunk waits for a read.
                later.extend(r for r in valid if r.id_number in missing)
                return _FROM_ROSTER, [r for r in chunk if r.errors is not None or r.id_number not in missing]
            # Past DEFER_MAX such rows, the chunk is read from the database like any other.
        return writer.read(lookup_chunk, ids, years, villages, queries, sqlite_dates), chunk

    def decide_chunk(chunk, persons, enrollments) -> Batch:
        """The chunk's outcomes and changes; ``enrollments`` None: the persons are the county
        roster's, each holding its enrollment of the roster's year (the chunk's only year)."""
        nonlocal refund_candidates, created
        batch = Batch()
        confirm = batch.confirmed.append
        # Hot: run for each of a county's rows, so what each row reads is held in locals.
        persons_get, seen_get, owed, roster_held = persons.get, seen.get, book.owed, enrollments is None
        for row in chunk:
            if row.errors is not None:
                counts[RowOutcome.INVALID] += 1
                problem(batch, row, RowOutcome.INVALID, row.error, township_id=township_hint(row))
                continue
            p = persons_get(row.id_number)
            if p is None or not p[4]:
                decision = decide(year=row.year, amount=row.amount, voucher=row.voucher, online=row.online, known=False, other_county=p is not None)
                counts[decision.outcome] += 1
                problem(batch, row, decision.outcome, decision.message, township_id=township_hint(row))
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
                confirm((e[0] if e else None, pid, village_id, year, tier, std, sub, due, code, paid_on, confirmed_on, row.voucher))
                continue
            refund_candidates += decision.refund_candidate
            if e is None and decision.refund_candidate and tax_import is not None:
                batch.links.append((len(batch.problems), key))  # the enrollment an earlier row creates
            problem(
                batch, row, outcome, decision.message, person=pid, enrollment_id=e[0] if e else None,
                township_id=villages[village_id]["parent_id"], owed=owed_value if outcome == RowOutcome.AMOUNT_MISMATCH else None,
                refund=decision.refund_candidate,
            )
        return batch

    def chunks():
        """(rows, whether to take their persons from the county roster), in file order; then the
        rows whose persons the roster lacked (``later``, complete once the last chunk is looked
        up), in file order too: a person's rows stay in order, so ``seen`` decides them alike."""
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                yield chunk, True
                chunk = []
        if chunk:
            yield chunk, True
        for start in range(0, len(later), chunk_size):
            yield later[start : start + chunk_size], False

    # The order of the work (PostgreSQL: the database thread runs the reads and writes in the
    # order queued): read chunk 1; then for each chunk N: wait for its reads, parse chunk N+1 and
    # queue its reads, match chunk N and queue its writes at once (the server always has the next
    # job while Python matches). So chunk N+1 is read before batch N is written, which ``seen``
    # makes irrelevant (see the docstring).
    writer.start()
    switch = sys.getswitchinterval()
    if writer.pg:  # hand the GIL back sooner to the database thread when the server answers
        sys.setswitchinterval(min(switch, 0.0005))
    try:
        reading_roster = _read_roster(writer, sheet=sheet, villages=villages, book=book, year=default_year)
        # The header is found here, so the sheet is loaded here (while the roster is read).
        filing, rows = readers.read_filing(sheet, default_year=default_year, max_rows=settings.CANBAO_MAX_IMPORT_ROWS)
        total = max(filing.total_rows, 1)
        if reading_roster is not None:
            county_roster = reading_roster.result()
            if county_roster is not None:
                book.hold_identities({county_roster.year: county_roster.identity_rows})
        it = chunks()
        following = next(it, None)
        reading = lookup(following[0], from_roster=following[1]) if following is not None else None
        while reading is not None:
            future, chunk = reading
            if future is _FROM_ROSTER:
                persons, enrollments = county_roster.persons, None  # identities: held since it was read
            else:
                try:
                    persons, enrollments, identities = future.result()
                except Exception:
                    writer.wait()  # a failed write makes the reads after it fail: report the write
                    raise
                if identities is not None:
                    book.set_identities(identities)
                else:
                    years = {r.year for r in chunk if r.errors is None}
                    book.load_identities([p[0] for p in persons.values() if p[4]], years)
            following = next(it, None)
            reading = lookup(following[0], from_roster=following[1]) if following is not None else None
            writer.submit(decide_chunk(chunk, persons, enrollments))
            done += len(chunk)
            if progress:
                progress(min(99, int(done * 100 / total)), f"已处理 {done} / 约 {filing.total_rows} 行")
        writer.finish()
    finally:
        writer.close()
        sys.setswitchinterval(switch)
    if not dry_run and tax_import is not None and refund_candidates:
        _flag_refunds(tax_import)
    summary = {
        "rows_read": done,
        **{k: counts[k] for k in COUNT_KEYS},
        "refund_candidates": refund_candidates,
        "created_enrollments": created if not dry_run else 0,
        "would_create_enrollments": created,
        "problems": {k: counts[k] for k in COUNT_KEYS if k in PROBLEM_OUTCOMES},
        "blank_rows": filing.blank_rows,
        "totals_rows": filing.totals_rows,
        "header_row": filing.header_row,
        "columns": sorted(filing.columns, key=filing.columns.get),
        "dry_run": dry_run,
    }
    assert sum(counts.values()) == done, "every data row has exactly one outcome"
    return summary


def _flag_refunds(tax_import: TaxImport) -> None:
    """Hand duplicate payments to the refunds workflow as candidates (待核实): once per enrollment
    (its first problem row), through the refunds' own ``refund_flag_duplicates`` (in bulk: a
    county file may hold thousands)."""

    def amount(text):
        try:
            return readers.parse_amount(text)
        except readers.CellError:
            return 0

    rows = (
        TaxImportRow.objects.filter(tax_import=tax_import, refund_candidate=True, enrollment__isnull=False)
        .order_by("row_number")
        .values_list("enrollment_id", "amount", "row_number", "message")
    )
    refund_flag_duplicates(
        (eid, amount(text), f"税务数据导入 #{tax_import.pk} 第{number}行", message) for eid, text, number, message in rows
    )
