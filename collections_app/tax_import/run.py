"""One run over a filing: read it, match each chunk, hand the batches to the writer.

The orchestration only: rows come from ``readers``; their persons from ``persons.ChunkReads``
(by chunks of ID numbers or, for a filing as large as the county, from the county's roster read
once while the sheet loads, see ``roster``); ``decide.ChunkDecider`` turns each chunk into a
``Batch``; ``writer.Writer`` writes it while the next chunk is matched. The caller holds the one
transaction."""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.choices import RegionLevel
from core.models import Region
from subsidies.selectors import seasons_of

from .. import lifecycle
from ..models.tax_imports import PROBLEM_OUTCOMES, RowOutcome, TaxImport, TaxImportRow
from ..refunds.services import refund_flag_duplicates
from . import readers
from .dates import DateFit
from .decide import ChunkDecider, TownshipHints
from .matching import FilingBook
from .persons import ChunkReads
from .writer import Writer

CHUNK = 5000
COUNT_KEYS = [o.value for o in RowOutcome]


def run_filing(
    *, sheet, county, default_year: int | None, actor=None, dry_run: bool, tax_import: TaxImport | None = None,
    progress=None, chunk_size: int = CHUNK,
) -> dict:
    """Read, match and (unless ``dry_run``) apply one filing. The caller holds the transaction.

    Returns the summary: rows read, a count per outcome, refund candidates, skipped lines.

    Rows are matched by chunks, in file order; what earlier rows did is remembered by the decider
    (see ``decide.ChunkDecider``), so a chunk's answers never depend on whether the writes of the
    chunks before it have landed yet.
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


@contextmanager
def _database_thread_favoured(pg: bool):
    """PostgreSQL: hand the GIL back sooner to the writer's database thread when the server answers."""
    switch = sys.getswitchinterval()
    if pg:
        sys.setswitchinterval(min(switch, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(switch)


def _run_filing(*, sheet, county, default_year, actor, dry_run, tax_import, progress, chunk_size) -> dict:
    book = FilingBook(county)
    writer = Writer(
        actor=actor, reason=f"税务数据导入 #{tax_import.pk if tax_import else '-'}", write_enrollments=not dry_run,
    )
    villages, townships = _county_regions(county)
    hints = TownshipHints(townships, {v["name"]: v["parent_id"] for v in villages.values()})
    dates = DateFit(book.policy, seasons_of(county))
    decider = ChunkDecider(
        book=book, villages=villages, hints=hints, tax_import=tax_import, today=timezone.localdate(), dates=dates
    )
    reads = ChunkReads(writer=writer, book=book, villages=villages)
    writer.start()
    with _database_thread_favoured(writer.pg):
        try:
            reading_roster = reads.read_roster(size=sheet.size, year=default_year)
            # The header is found here, so the sheet is loaded here (while the roster is read).
            filing, rows = readers.read_filing(sheet, default_year=default_year, max_rows=settings.CANBAO_MAX_IMPORT_ROWS)
            if reading_roster is not None:
                reads.hold_roster(reading_roster)
            done = _match(_chunks(rows, reads.later, chunk_size), reads, decider, writer, progress, filing.total_rows)
            writer.finish()
        finally:
            writer.close()
    if not dry_run and tax_import is not None and decider.refund_candidates:
        _flag_refunds(tax_import)
    return _summary(filing, decider, done=done, dry_run=dry_run)


def _county_regions(county) -> tuple[dict, dict]:
    """The county's villages {id: {"id", "name", "parent_id"}} and townships {name: id}."""
    villages = {
        v["id"]: v
        for v in Region.objects.filter(level=RegionLevel.VILLAGE, parent__parent=county).values("id", "name", "parent_id")
    }
    townships = {t.name: t.id for t in Region.objects.filter(level=RegionLevel.TOWNSHIP, parent=county)}
    return villages, townships


def _chunks(rows, later: list, size: int):
    """(rows, whether to take their persons from the county roster), in file order; then the
    rows whose persons the roster lacked (``later``, complete once the last chunk is looked up),
    in file order too: a person's rows stay in order, so the decider's ``seen`` decides them alike."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk, True
            chunk = []
    if chunk:
        yield chunk, True
    for start in range(0, len(later), size):
        yield later[start : start + size], False


def _match(chunks, reads: ChunkReads, decider: ChunkDecider, writer: Writer, progress, total_rows: int) -> int:
    """Every chunk read, decided and written; the rows done.

    The order of the work (PostgreSQL: the database thread runs the reads and writes in the
    order queued): read chunk 1; then for each chunk N: wait for its reads, parse chunk N+1 and
    queue its reads, decide chunk N and queue its writes at once (the server always has the next
    job while Python matches). So chunk N+1 is read before batch N is written, which the
    decider's ``seen`` makes irrelevant."""
    total = max(total_rows, 1)
    done = 0
    following = next(chunks, None)
    reading = reads.queue(*following) if following is not None else None
    while reading is not None:
        chunk, persons, enrollments = reads.result(reading)
        following = next(chunks, None)
        reading = reads.queue(*following) if following is not None else None
        writer.submit(decider.decide(chunk, persons, enrollments))
        done += len(chunk)
        if progress:
            progress(min(99, int(done * 100 / total)), f"已处理 {done} / 约 {total_rows} 行")
    return done


def _summary(filing, decider: ChunkDecider, *, done: int, dry_run: bool) -> dict:
    counts = decider.counts
    assert sum(counts.values()) == done, "every data row has exactly one outcome"
    return {
        "rows_read": done,
        **{k: counts[k] for k in COUNT_KEYS},
        "refund_candidates": decider.refund_candidates,
        "created_enrollments": decider.created if not dry_run else 0,
        "would_create_enrollments": decider.created,
        "problems": {k: counts[k] for k in COUNT_KEYS if k in PROBLEM_OUTCOMES},
        "blank_rows": filing.blank_rows,
        "totals_rows": filing.totals_rows,
        "header_row": filing.header_row,
        "columns": sorted(filing.columns, key=filing.columns.get),
        "dry_run": dry_run,
        **(decider.dates.summary() if decider.dates is not None else {}),
    }


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
