"""Tax filing import: upload → preview (a dry run of the same code path) → apply (one transaction).

Speed: rows are streamed and matched by chunks of ID numbers (one query for persons with their
enrollments, one for their subsidy identities — or, for a filing as large as the county, the
county's roster read once while the sheet loads: see tax_import/roster.py) and written per chunk.
On PostgreSQL a database thread on the same connection runs those reads and the writes — COPY
into temporary tables and ONE statement that updates existing enrollments, inserts new ones and
writes the history rows of both, then COPY of the problem rows — while Python matches the next
chunk (elsewhere: executemany and bulk_create in this thread). All inside ONE
``transaction.atomic``, so a failure (or a killed worker) leaves nothing half-applied."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import Future
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.choices import RegionLevel
from core.models import Region
from core.scoping import region_in_scope
from core.spreadsheets import UploadError, check_sheet, check_upload
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person
from subsidies.calc import to_money
from subsidies.selectors import benefit_year

from .. import lifecycle
from ..models.tax_imports import (
    PROBLEM_OUTCOMES,
    RowOutcome,
    TaxImport,
    TaxImportRow,
    TaxImportStatus,
)
from . import readers, roster
from .matching import FilingBook, as_date, decide

log = logging.getLogger(__name__)

ERR_NO_PERMISSION = "只有税务局工作人员可以导入税务缴费数据。"
ERR_COUNTY = "只能导入本县的税务数据。"
ERR_NOT_COUNTY = "请选择县/区。"
ERR_NOT_PREVIEWED = "请先完成预检，再确认导入。"
ERR_CANCELLED = "该批次已放弃，不能导入。"
ERR_UNEXPECTED = "导入时发生意外错误，数据库未做任何修改。请联系管理员（批次 {id}）。"
ERR_RUNNING = "该批次正在导入，请稍候。"
ERR_NOT_INTERRUPTED = "该批次没有中断，不需要继续：正在处理的请稍候，已处理完的请刷新页面查看结果。"
ERR_CRASHED = (
    "这个文件使处理导入的进程中止了{crashes}次，导入已停止，数据库未做任何修改。请确认上传的是税务系统导出的"
    "原始缴费明细且文件完整，重新导出后再上传；仍然不行请联系管理员（批次 {id}）。"
)
MSG_INTERRUPTED_PREVIEW = (
    "预检已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新预检。"
)
MSG_INTERRUPTED_APPLY = (
    "导入已中断：处理它的进程已有{minutes}分钟没有响应，可能已停止。数据库未做任何修改，请点“继续”重新导入。"
)
INTERRUPTED_LABEL = "中断"  # shown in place of the status of an interrupted import
MSG_WAITING_PREVIEW = "等待预检…"
MSG_WAITING_APPLY = "等待导入…"
AUDIT_ACTION = "tax_import"
# Queued or running (a worker is meant to be on it): the statuses an interruption applies to.
RUNNING_STATUSES = (TaxImportStatus.UPLOADED, TaxImportStatus.PREVIEWING, TaxImportStatus.APPLYING)

CHUNK = 5000
MAX_QUEUED_WRITES = 3  # batches waiting for the database thread (PostgreSQL)
DEFER_MAX = 50_000  # rows of persons the county roster lacks kept for the end (then: read per chunk)
COUNT_KEYS = [o.value for o in RowOutcome]


class ImportFailed(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StaleRun(Exception):
    """A task of a run that is no longer the import's current one (a late redelivery of a run
    that was resumed, or of one that finished): it does nothing."""


# --- Progress and heartbeat (in the cache: the apply transaction is invisible to other
# connections, and a killed worker cannot write anything at all) -----------------------------------
# A running preview or apply beats at every progress report and, from a thread, every
# ``heartbeat_seconds()`` however long a silent phase lasts (the sheet load, the roster read); an
# import queued or running whose last beat is older than settings.CANBAO_IMPORT_INTERRUPTED_AFTER
# seconds is interrupted: its worker is gone (its transaction rolled back with its connection).
BEAT_TTL = 24 * 3600


def progress_key(import_id: int) -> str:
    return f"taximport:{import_id}:progress"


def beat_key(import_id: int) -> str:
    return f"taximport:{import_id}:beat"


def set_progress(import_id: int, percent: int, message: str) -> None:
    """What a running import did last, and when (``at``: seconds since the epoch); also a beat."""
    now = time.time()
    cache.set_many(
        {progress_key(import_id): {"percent": int(percent), "message": message, "at": now}, beat_key(import_id): now}, BEAT_TTL
    )


def get_progress(import_id: int) -> dict | None:
    return cache.get(progress_key(import_id))


def beat(import_id: int) -> None:
    cache.set(beat_key(import_id), time.time(), BEAT_TTL)


def interrupted_after() -> float:
    return float(settings.CANBAO_IMPORT_INTERRUPTED_AFTER)


def heartbeat_seconds() -> float:
    """Six beats per threshold: a few missed beats (a busy machine) do not look like a death."""
    return max(0.1, interrupted_after() / 6)


@contextmanager
def _heartbeat(import_id: int):
    """Beat from a thread while the block runs."""
    stop = threading.Event()

    def run():
        while not stop.wait(heartbeat_seconds()):
            beat(import_id)

    thread = threading.Thread(target=run, name=f"taximport-{import_id}-heartbeat", daemon=True)
    beat(import_id)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def tax_import_is_interrupted(tax_import: TaxImport, *, now: float | None = None) -> bool:
    """Queued or running (正在预检, 正在导入, or uploaded and waiting for its preview), and no beat for
    ``interrupted_after()`` seconds (none known: since the upload)."""
    if tax_import.status not in RUNNING_STATUSES:
        return False
    last = cache.get(beat_key(tax_import.pk)) or tax_import.created_at.timestamp()
    return (now if now is not None else time.time()) - last > interrupted_after()


def interrupted_message(tax_import: TaxImport) -> str:
    template = MSG_INTERRUPTED_APPLY if tax_import.status == TaxImportStatus.APPLYING else MSG_INTERRUPTED_PREVIEW
    return template.format(minutes=max(1, round(interrupted_after() / 60)))


def status_label(tax_import: TaxImport, *, interrupted: bool | None = None) -> str:
    """The status as pages and the API show it: 中断 for an interrupted import."""
    if interrupted if interrupted is not None else tax_import_is_interrupted(tax_import):
        return INTERRUPTED_LABEL
    return tax_import.get_status_display()


# --- Writing --------------------------------------------------------------------------------------
# A confirmed row: (enrollment id or None to create one, person id, village id, year, tier,
# standard, subsidy, amount due, subsidy category code, paid on, confirmed on, voucher).
# A problem row: the values of PROBLEM_COLUMNS, in that order.
PROBLEM_COLUMNS = (
    "tax_import_id", "row_number", "outcome", "message", "id_number", "name", "amount", "owed", "paid_on", "voucher",
    "channel", "place", "year", "township_id", "person_id", "enrollment_id", "refund_candidate",
)
_ENROLLMENT_AT = PROBLEM_COLUMNS.index("enrollment_id")
_HISTORY_SPECIAL = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
PG_TABLE = "canbao_taximport_confirmed"
PG_VALUES = "canbao_taximport_values"


class _Batch:
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


class _Writer:
    """Reads the chunks of one filing and writes their batches, inside the caller's transaction.

    PostgreSQL: one database thread on the SAME connection (so the same transaction; psycopg
    serialises its use) runs, in the order submitted, the reads of each chunk (its persons with
    their enrollments, their identities) and the writes of each batch: COPY of the confirmed rows
    into a temporary table and ONE statement — UPDATE … FROM for enrollments that exist, INSERT …
    SELECT for new ones, and the history rows of both from their RETURNING — then COPY of the
    problem rows. While the server writes batch N, Python parses chunk N+2 and matches chunk N+1
    (at most MAX_QUEUED_WRITES batches wait). Elsewhere (SQLite) everything runs in the
    caller's thread, in the same order.
    """

    def __init__(self, *, actor, tax_import, reason: str, write_enrollments: bool):
        self.actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        self.tax_import = tax_import
        self.reason = reason[:100]
        self.write_enrollments = write_enrollments
        self.created: dict[tuple[int, int], int] = {}  # (person id, year) → enrollment created here
        self.pg = connection.vendor == "postgresql"
        self._keys: dict[tuple, int] = {}  # (year, tier, amounts, code, dates) → k in PG_VALUES
        self._writes: list = []
        self._pool = None
        self._raw = None
        self._now = timezone.now()

    # -- the public side --
    def start(self) -> None:
        if self.pg and self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pg_prepare()
            self._raw = connection.connection
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taximport-db")

    def read(self, job, *args):
        """``job(execute, *args)`` with ``execute(sql, params) -> rows``: queued on the database
        thread after the writes submitted so far (PostgreSQL), or run now. Returns a future."""
        if self._pool is None:
            done = Future()
            done.set_result(job(_django_execute, *args))
            return done
        return self._pool.submit(self._read, job, args)

    def submit(self, batch: _Batch) -> None:
        if not batch:
            return
        self._raise_failed()
        if self._pool is None:
            self._write_generic(batch)
            return
        # Formatted here: the server need not wait for it (this thread often waits for the server).
        texts = _copy_texts(batch.confirmed, self._keys) if batch.confirmed and self.write_enrollments else ("", "")
        if len(self._writes) >= MAX_QUEUED_WRITES:  # matching is ahead of the server: bound the memory
            self._writes[0].result()
        self._writes.append(self._pool.submit(self._write_pg, batch, texts))

    def wait(self, *, raise_errors: bool = True) -> None:
        """Until every submitted write is done; re-raises the first that failed."""
        writes, self._writes = self._writes, []
        error = None
        for write in writes:
            try:
                write.result()
            except Exception as exc:  # noqa: BLE001 - re-raised below
                error = error or exc
        if error is not None and raise_errors:
            raise error

    def finish(self) -> None:
        """After the last write: foreign keys deferred to commit again, as Django declares them
        (every deferrable constraint of the schema is initially deferred)."""
        self.wait()
        if self.pg and self._pool is not None:
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL DEFERRED")

    def close(self) -> None:
        """Never leave a read or a write running when the transaction ends."""
        self.wait(raise_errors=False)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _raise_failed(self) -> None:
        if any(w.done() and w.exception() is not None for w in self._writes):
            self.wait()
        self._writes = [w for w in self._writes if not w.done()]

    def _read(self, job, args):
        with self._raw.cursor() as cur:
            return job(_Db(cur), *args)

    def _link(self, batch: _Batch) -> None:
        for index, key in batch.links:
            batch.problems[index][_ENROLLMENT_AT] = self.created.get(key)

    # -- PostgreSQL --
    def _pg_prepare(self) -> None:
        """The temporary table and the statements (in the caller's thread, on its connection)."""
        qn = connection.ops.quote_name
        table, hist = Enrollment._meta, Enrollment.history.model._meta
        self._problem_copy = (
            f"COPY {qn(TaxImportRow._meta.db_table)} ({', '.join(qn(c) for c in PROBLEM_COLUMNS)}) FROM STDIN"
        )
        with connection.cursor() as cur:
            # No parallel workers for the rest of this transaction: the roster read (roster.py)
            # would take three processes for what one does as fast, while python-calamine and
            # this process's Python need the machine's other cores.
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            # Foreign keys checked as each batch is written, not all at commit: the checks then
            # run while Python matches the next chunk instead of after the last (``finish``).
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if not self.write_enrollments:  # a dry run writes problem rows only
            return
        # One row per confirmed row (c), naming one of the few distinct (year, tier, amounts,
        # code, dates) of the filing (u, each copied once): COPY parses 5 columns a row, not 12.
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {PG_TABLE} (id bigint, person_id bigint, village_id bigint, k integer, "
                "voucher text) ON COMMIT DROP"
            )
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {PG_VALUES} (k integer PRIMARY KEY, year integer, tier smallint, "
                "standard numeric(12,2), subsidy numeric(12,2), amount_due numeric(12,2), code text, paid_on date, "
                "confirmed_on date) ON COMMIT DROP"
            )
            cur.execute(f"TRUNCATE {PG_VALUES}")  # left by an earlier import in the same transaction
        given = {
            "person_id": "c.person_id", "year": "u.year", "village_id": "c.village_id", "tier": "u.tier",
            "status": "%(status)s", "standard": "u.standard", "subsidy": "u.subsidy", "amount_due": "u.amount_due",
            "subsidy_category_code": "u.code", "paid_on": "u.paid_on", "confirmed_on": "u.confirmed_on",
            "tax_voucher": "c.voucher", "created_at": "%(now)s", "updated_at": "%(now)s",
        }
        params = {"status": EnrollmentStatus.CONFIRMED.value, "now": self._now, "reason": self.reason, "user": self.actor_id}
        columns, values = [], []
        for f in table.concrete_fields:
            if f.primary_key:
                continue
            columns.append(qn(f.column))
            if f.column in given:
                values.append(given[f.column])
            else:  # every other column gets its model default, as bulk_create would give it
                params[f"d_{f.column}"] = f.get_db_prep_save(f.get_default(), connection)
                values.append(f"%(d_{f.column})s::{f.db_type(connection)}")
        hcols = ", ".join(qn(f.column) for f in hist.concrete_fields if f.column not in _HISTORY_SPECIAL)
        stamp = "%(now)s::timestamptz, %(reason)s::varchar, '{kind}'::varchar, %(user)s::bigint"
        self._pg_sql = (
            f"WITH upd AS (UPDATE {qn(table.db_table)} AS e SET status = %(status)s, tier = u.tier, standard = u.standard, "
            "subsidy = u.subsidy, amount_due = u.amount_due, subsidy_category_code = u.code, "
            "paid_on = COALESCE(e.paid_on, u.paid_on), confirmed_on = u.confirmed_on, tax_voucher = c.voucher, "
            f"updated_at = %(now)s FROM {PG_TABLE} AS c JOIN {PG_VALUES} AS u ON u.k = c.k "
            "WHERE c.id IS NOT NULL AND e.id = c.id RETURNING e.*), "
            f"ins AS (INSERT INTO {qn(table.db_table)} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {PG_TABLE} AS c JOIN {PG_VALUES} AS u ON u.k = c.k WHERE c.id IS NULL RETURNING *), "
            f"hist AS (INSERT INTO {qn(hist.db_table)} ({hcols}, history_date, history_change_reason, history_type, "
            f"history_user_id) SELECT {hcols}, {stamp.format(kind='~')} FROM upd "
            f"UNION ALL SELECT {hcols}, {stamp.format(kind='+')} FROM ins) "
            "SELECT id, person_id, year FROM ins"
        )
        self._pg_params = params

    def _write_pg(self, batch: _Batch, texts: tuple[str, str]) -> None:
        new_values, text = texts
        with self._raw.cursor() as cur:
            if new_values:
                with cur.copy(f"COPY {PG_VALUES} FROM STDIN") as copy:
                    copy.write(new_values)
            if text:
                cur.execute(f"TRUNCATE {PG_TABLE}")
                with cur.copy(f"COPY {PG_TABLE} FROM STDIN") as copy:
                    copy.write(text)
                cur.execute(self._pg_sql, self._pg_params)
                for eid, pid, year in cur.fetchall():
                    self.created[(pid, year)] = eid
            if batch.problems and self.tax_import is not None:
                self._link(batch)
                with cur.copy(self._problem_copy) as copy:
                    for row in batch.problems:
                        copy.write_row(row)

    # -- elsewhere --
    def _write_generic(self, batch: _Batch) -> None:
        ops = connection.ops
        if batch.confirmed and self.write_enrollments:
            updates = [c for c in batch.confirmed if c[0] is not None]
            creates = [c for c in batch.confirmed if c[0] is None]
            with connection.cursor() as cur:
                if updates:
                    stamp = ops.adapt_datetimefield_value(self._now)
                    cur.executemany(
                        self._update_sql(),
                        [
                            (
                                EnrollmentStatus.CONFIRMED, tier, ops.adapt_decimalfield_value(std, 12, 2),
                                ops.adapt_decimalfield_value(sub, 12, 2), ops.adapt_decimalfield_value(due, 12, 2), code,
                                ops.adapt_datefield_value(paid_on), ops.adapt_datefield_value(confirmed_on), voucher, stamp, eid,
                            )
                            for eid, _p, _v, _y, tier, std, sub, due, code, paid_on, confirmed_on, voucher in updates
                        ],
                    )
                    self._history(cur, [u[0] for u in updates], "~")
                if creates:
                    objs = Enrollment.objects.bulk_create(
                        [
                            Enrollment(
                                person_id=pid, year=year, village_id=vid, tier=tier, status=EnrollmentStatus.CONFIRMED,
                                standard=std, subsidy=sub, amount_due=due, subsidy_category_code=code, paid_on=paid_on,
                                confirmed_on=confirmed_on, tax_voucher=voucher,
                            )
                            for _e, pid, vid, year, tier, std, sub, due, code, paid_on, confirmed_on, voucher in creates
                        ],
                        batch_size=2000,
                    )
                    if any(e.pk is None for e in objs):  # backends that do not return ids
                        found = Enrollment.objects.filter(
                            person_id__in=[e.person_id for e in objs], year__in={e.year for e in objs}
                        ).values_list("person_id", "year", "id")
                        ids = {(p, y): i for p, y, i in found}
                        for e in objs:
                            e.pk = ids.get((e.person_id, e.year))
                    for e in objs:
                        self.created[(e.person_id, e.year)] = e.pk
                    self._history(cur, [e.pk for e in objs], "+")
        if batch.problems and self.tax_import is not None:
            self._link(batch)
            TaxImportRow.objects.bulk_create(
                [TaxImportRow(**dict(zip(PROBLEM_COLUMNS, row))) for row in batch.problems], batch_size=2000
            )

    def _update_sql(self) -> str:
        qn = connection.ops.quote_name
        return (
            f"UPDATE {qn(Enrollment._meta.db_table)} SET status = %s, tier = %s, standard = %s, subsidy = %s, "
            "amount_due = %s, subsidy_category_code = %s, paid_on = COALESCE(paid_on, %s), confirmed_on = %s, "
            "tax_voucher = %s, updated_at = %s WHERE id = %s"
        )

    def _history(self, cur, ids, kind: str) -> None:
        qn = connection.ops.quote_name
        hist = Enrollment.history.model
        cols = ", ".join(qn(f.column) for f in hist._meta.concrete_fields if f.column not in _HISTORY_SPECIAL)
        stamp = connection.ops.adapt_datetimefield_value(self._now)
        step = max(100, (connection.features.max_query_params or 999) - 10)
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            cur.execute(
                f"INSERT INTO {qn(hist._meta.db_table)} ({cols}, history_date, history_change_reason, history_type, "
                f"history_user_id) SELECT {cols}, %s, %s, %s, %s FROM {qn(Enrollment._meta.db_table)} "
                f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                [stamp, self.reason, kind, self.actor_id, *part],
            )


class _Db:
    """What a read job gets on the database thread: ``db(sql, params)`` gives all rows,
    ``db.stream(sql, params)`` yields them a few thousand at a time (bounded memory)."""

    def __init__(self, cur):
        self.cur = cur

    def __call__(self, sql, params):
        self.cur.execute(sql, params)
        return self.cur.fetchall()

    def stream(self, sql, params):
        yield from self.cur.stream(sql, params, size=5000)


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


def _django_execute(sql, params):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _copy_field(value) -> str:
    """A text value for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_texts(confirmed, keys: dict) -> tuple[str, str]:
    """COPY text of confirmed rows, by enrollment id: (lines for PG_VALUES of the (year, tier,
    amounts, code, dates) not seen before — ``keys`` remembers them across batches —, lines for
    PG_TABLE). Ids, numbers, amounts and dates need no escaping; codes and vouchers are text
    (vouchers never hold whitespace, see readers)."""
    n = "\\N"
    new, out = [], []
    for eid, pid, vid, year, tier, std, sub, due, code, paid_on, confirmed_on, voucher in sorted(confirmed, key=_by_id):
        key = (year, tier, std, sub, due, code, paid_on, confirmed_on)
        k = keys.get(key)
        if k is None:
            k = keys[key] = len(keys) + 1
            if code and not code.isalnum():
                code = _copy_field(code)
            new.append(
                f"{k}\t{year}\t{tier}\t{n if std is None else std}\t{n if sub is None else sub}\t"
                f"{n if due is None else due}\t{code}\t{paid_on}\t{confirmed_on}\n"
            )
        if "\\" in voucher:
            voucher = _copy_field(voucher)
        out.append(f"{n if eid is None else eid}\t{pid}\t{vid}\t{k}\t{voucher}\n")
    return "".join(new), "".join(out)


def _by_id(confirmed) -> int:
    return confirmed[0] or 0


# --- Reading --------------------------------------------------------------------------------------
def _q(name):
    return connection.ops.quote_name(name)


_PERSON_COLUMNS = (
    "p.id, p.id_number, p.is_student, p.birth_date, h.village_id, e.id, e.year, e.status, e.tier, e.tax_voucher, "
    "e.amount_due, e.standard, e.subsidy, e.subsidy_category_code"
)
PERSON_SQL = (
    f"SELECT {_PERSON_COLUMNS} FROM {{person}} p JOIN {{household}} h ON h.id = p.household_id "
    "LEFT JOIN {enrollment} e ON e.person_id = p.id AND e.year IN ({years}) WHERE p.id_number IN ({ids})"
)
# PostgreSQL: the chunk's ID numbers as one array, each looked up by index (OFFSET 0 keeps the
# planner from hashing whole tables: its cost must not grow with the county's size).
PERSON_SQL_PG = (
    f"SELECT {_PERSON_COLUMNS} FROM unnest(%s::text[]) AS k(id_number) "
    "CROSS JOIN LATERAL (SELECT id, id_number, is_student, birth_date, household_id FROM {person} "
    "WHERE id_number = k.id_number OFFSET 0) p "
    "CROSS JOIN LATERAL (SELECT village_id FROM {household} WHERE id = p.household_id OFFSET 0) h "
    "LEFT JOIN LATERAL (SELECT id, year, status, tier, tax_voucher, amount_due, standard, subsidy, subsidy_category_code "
    "FROM {enrollment} WHERE person_id = p.id AND year IN ({years}) OFFSET 0) e ON true"
)


def select_persons(execute, id_numbers, years) -> list[tuple]:
    """The persons with these ID numbers, each with its enrollments of ``years`` (one row per
    enrollment, or one with NULLs): one query on PostgreSQL, one per ~900 IDs elsewhere. Raw SQL:
    the ORM's per-value preparation costs more than the query."""
    id_numbers = list(id_numbers)
    if not id_numbers:
        return []
    tables = {
        "person": _q(Person._meta.db_table), "household": _q(Household._meta.db_table),
        "enrollment": _q(Enrollment._meta.db_table), "years": ", ".join(str(int(y)) for y in years) or "0",
    }
    if connection.vendor == "postgresql":  # normalised ID numbers need no quoting in an array literal
        return execute(PERSON_SQL_PG.format(**tables), ["{" + ",".join(id_numbers) + "}"])
    out = []
    step = max(100, (connection.features.max_query_params or 999) - 10)
    for start in range(0, len(id_numbers), step):
        part = id_numbers[start : start + step]
        out.extend(execute(PERSON_SQL.format(ids=", ".join(["%s"] * len(part)), **tables), part))
    return out


def _lookup(execute, ids, years, villages, identity_queries, dates_as_text):
    """A chunk's persons {ID number: (id, student, birth date, village id, local)}, their
    enrollments {(person id, year): (id, status, tier, voucher, due, standard, subsidy, code)}
    and, with ``identity_queries`` ({year: (sql, params, index)}, PostgreSQL), the rows of their
    identities for ``FilingBook.set_identities``."""
    persons, enrollments = {}, {}
    for (
        pid, id_number, student, birth, village_id, eid, year, status, tier, voucher, due, std, sub, code,
    ) in select_persons(execute, ids, years):
        if dates_as_text:  # SQLite: text dates, float or text amounts (PostgreSQL: date, Decimal of 2 places)
            birth, due, std, sub = as_date(birth), _money(due), _money(std), _money(sub)
        persons[id_number] = (pid, bool(student), birth, village_id, village_id in villages)
        if eid is not None:
            enrollments[(pid, year)] = (eid, status, tier, voucher, due, std, sub, code)
    identities = None
    if identity_queries is not None:
        local = [p[0] for p in persons.values() if p[4]]
        identities = {}
        for year, (sql, params, index) in identity_queries.items():
            params = list(params)
            params[index] = local
            identities[year] = execute(sql, params) if local else []
    return persons, enrollments, identities


def _money(value):
    return None if value is None else to_money(value)


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
    filled in when its batch is written (``_Batch.links``).
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
    writer = _Writer(
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
        """Queue the reads of a chunk (see _Writer.read): (a future giving (persons, enrollments,
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
        return writer.read(_lookup, ids, years, villages, queries, sqlite_dates), chunk

    def decide_chunk(chunk, persons, enrollments) -> _Batch:
        """The chunk's outcomes and changes; ``enrollments`` None: the persons are the county
        roster's, each holding its enrollment of the roster's year (the chunk's only year)."""
        nonlocal refund_candidates, created
        batch = _Batch()
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
    from ..services import refund_flag_duplicates

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


# --- Services -------------------------------------------------------------------------------------
def _check_actor(actor, county) -> None:
    if actor is None:
        return  # the command line (an operator on the server)
    if not actor.can("taximport.run"):
        raise PermissionDenied(ERR_NO_PERMISSION)
    if not region_in_scope(actor, county):
        raise PermissionDenied(ERR_COUNTY)


def tax_import_create(*, actor, county, upload, name: str = "", year: int | None = None) -> TaxImport:
    """Check the upload (size, real xlsx/csv, zip bomb) and store it under MEDIA_ROOT."""
    if county is None or county.level != RegionLevel.COUNTY:
        raise ImportFailed(ERR_NOT_COUNTY)
    _check_actor(actor, county)
    name = os.path.basename(name or getattr(upload, "name", "") or "filing.xlsx")
    try:
        kind = check_upload(upload, name=name)
        check_sheet(upload, kind)  # here, once: the runs then read the stored file without a second scan
    except UploadError as exc:
        raise ImportFailed(exc.message) from None
    upload.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: upload.read(1 << 20), b""):
        digest.update(block)
    upload.seek(0)
    ext = "csv" if kind == "csv" else "xlsx"
    ti = TaxImport(
        county=county, year=year or benefit_year(county), original_name=name[:200], kind=kind,
        uploaded_by=actor if actor else None, run=uuid.uuid4().hex,  # the preview queued after the upload
        checked_sha256=digest.hexdigest(),
    )
    ti.file.save(f"{digest.hexdigest()[:16]}.{ext}", File(upload), save=False)
    ti.full_clean(exclude=["file"])
    ti.save()
    set_progress(ti.pk, 0, MSG_WAITING_PREVIEW)  # queued: its first beat
    audit.record(actor=actor, action=AUDIT_ACTION, obj=ti, detail={"step": "upload", "file": ti.original_name, "county": county.code})
    return ti


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(ti: TaxImport):
    """The stored file's sheet: trusted to have passed the guard only while it is the very file
    that passed it at upload (hashing 35 MB costs ~0.1 s; the guard's scan ~2 s of a county import)."""
    path = ti.file.path
    checked = bool(ti.checked_sha256) and _sha256(path) == ti.checked_sha256
    if ti.kind == "csv":
        with open(path, "rb") as fh:
            return readers.open_sheet(fh, "csv", checked=checked)
    return readers.open_sheet(path, "xlsx", checked=checked)


def _execute(ti: TaxImport, *, actor, dry_run: bool) -> dict:
    def progress(percent, message):
        set_progress(ti.pk, percent, message)

    sheet = _open(ti)
    try:
        TaxImportRow.objects.filter(tax_import=ti).delete()
        return run_filing(sheet=sheet, county=ti.county, default_year=ti.year, actor=actor, dry_run=dry_run, tax_import=ti, progress=progress)
    finally:
        sheet.close()


def _of_run(ti: TaxImport, run: str | None):
    """The import's row, and only while ``run`` is its current run (any run when None: the
    command line runs the services itself)."""
    rows = TaxImport.objects.filter(pk=ti.pk)
    return rows if run is None else rows.filter(run=run)


def _fail(ti: TaxImport, message: str, *, status=TaxImportStatus.FAILED, run: str | None = None) -> None:
    if _of_run(ti, run).update(status=status, error=message):
        set_progress(ti.pk, 100, message)
    ti.refresh_from_db()


def tax_import_preview(*, tax_import: TaxImport, run: str | None = None) -> dict:
    """The dry run: the same code path as apply, writing only the problem rows and the preview.

    ``run`` (from the task): the run it was queued as; a delivery of another run does nothing
    (raises StaleRun), and a second delivery of a run that finished leaves its preview. The row
    stays locked while the preview runs, so a resume sees it alive."""
    ti = tax_import
    if ti.status in (TaxImportStatus.APPLIED, TaxImportStatus.CANCELLED):
        return ti.summary
    # A run is queued as 已上传 (the upload) or 正在预检 (a resume); in any other status it has ended.
    startable = [TaxImportStatus.UPLOADED, TaxImportStatus.PREVIEWING]
    if run is None:
        startable += [TaxImportStatus.PREVIEWED, TaxImportStatus.FAILED]
    if not _of_run(ti, run).filter(status__in=startable).update(status=TaxImportStatus.PREVIEWING, error=""):
        ti.refresh_from_db()
        if run is not None and ti.run != run:
            raise StaleRun(run)
        return ti.summary  # this run has ended: a second delivery changes nothing
    set_progress(ti.pk, 1, "正在预检…")
    try:
        with _heartbeat(ti.pk), transaction.atomic():
            locked = TaxImport.objects.select_for_update().get(pk=ti.pk)
            if run is not None and locked.run != run:
                raise StaleRun(run)  # resumed meanwhile: the new run previews
            summary = _execute(locked, actor=None, dry_run=True)
            # attempts=0 with the status: the phase has ended, not only once the task has returned
            TaxImport.objects.filter(pk=ti.pk).update(status=TaxImportStatus.PREVIEWED, preview=summary, error="", attempts=0)
    except StaleRun:
        raise
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message, run=run)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s preview failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk), run=run)
        raise
    set_progress(ti.pk, 100, "预检完成")
    ti.refresh_from_db()
    return summary


def tax_import_apply(*, actor, tax_import: TaxImport, require_preview: bool = True, run: str | None = None) -> dict:
    """Apply a previewed import atomically. Idempotent: an applied import is left as it is.

    ``run`` (from the task): the run it was queued as; a delivery of another run does nothing
    (raises StaleRun). The row is locked for the whole transaction, so of two deliveries one
    applies and the other finds it applied, and a resume sees a running apply alive."""
    ti = tax_import
    _check_actor(actor, ti.county)
    if run is None:  # the command line; a task's run was queued as 正在导入 (tax_import_mark_applying)
        ready = [TaxImportStatus.PREVIEWED, TaxImportStatus.FAILED] + ([] if require_preview else [TaxImportStatus.UPLOADED])
        TaxImport.objects.filter(pk=ti.pk, status__in=ready).update(status=TaxImportStatus.APPLYING)
    try:
        with _heartbeat(ti.pk), transaction.atomic():
            locked = TaxImport.objects.select_for_update().get(pk=ti.pk)
            if run is not None and locked.run != run:
                raise StaleRun(run)
            if locked.status == TaxImportStatus.APPLIED:
                return locked.result
            if locked.status == TaxImportStatus.CANCELLED:
                raise ImportFailed(ERR_CANCELLED)
            if run is not None and locked.status != TaxImportStatus.APPLYING:
                return locked.summary  # this run has ended (failed): a second delivery changes nothing
            if locked.status == TaxImportStatus.UPLOADED and require_preview:
                raise ImportFailed(ERR_NOT_PREVIEWED)
            set_progress(ti.pk, 1, "正在导入…")
            summary = _execute(locked, actor=actor, dry_run=False)
            now = timezone.now()
            TaxImport.objects.filter(pk=ti.pk).update(
                status=TaxImportStatus.APPLIED, result=summary, applied_at=now, applied_by=actor if actor else None, error="",
                attempts=0,
            )
            audit.record(
                actor=actor, action=AUDIT_ACTION, obj=locked,
                detail={"step": "apply", "file": locked.original_name, **{k: summary[k] for k in ("rows_read", *COUNT_KEYS)}},
            )
    except (ImportFailed, StaleRun):
        raise
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message, run=run)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s apply failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk), status=TaxImportStatus.FAILED, run=run)
        raise
    set_progress(ti.pk, 100, "导入完成")
    ti.refresh_from_db()
    return summary


# --- Runs: queuing, resuming, counting the deliveries that died ----------------------------------
def _queue_run(locked: TaxImport, *, status: str, attempts: int, waiting: str) -> bool:
    """A new run of ``locked`` (its row locked by the caller): the task to queue carries
    ``run``, every earlier run's messages become stale. Compare-and-set on the previous run, so
    two callers at once (even where row locks are no-ops, SQLite) start one run."""
    started = TaxImport.objects.filter(pk=locked.pk, run=locked.run).update(
        status=status, run=uuid.uuid4().hex, attempts=attempts, error=""
    )
    if started:
        set_progress(locked.pk, 0, waiting)
    return bool(started)


def tax_import_mark_applying(*, actor, tax_import: TaxImport) -> bool:
    """Before queuing the apply task: show the import as running (so pages poll its progress).

    Allowed for a previewed (or failed) import, and for an interrupted apply (a resume, see
    ``tax_import_resume``). Atomic: the import's row is locked, skipping it if a preview or an
    apply holds it (that run is alive), so of two confirms at once one wins. Returns whether to
    queue ``run_tax_import(…, apply=True, run=tax_import.run)``."""
    _check_actor(actor, tax_import.county)
    with transaction.atomic():
        locked = TaxImport.objects.select_for_update(skip_locked=True).filter(pk=tax_import.pk).first()
        ready = False
        if locked is not None and bool(locked.preview):
            if locked.status in (TaxImportStatus.PREVIEWED, TaxImportStatus.FAILED):
                ready = _queue_run(locked, status=TaxImportStatus.APPLYING, attempts=0, waiting=MSG_WAITING_APPLY)
            elif locked.status == TaxImportStatus.APPLYING and tax_import_is_interrupted(locked):
                ready = _queue_run(locked, status=TaxImportStatus.APPLYING, attempts=locked.attempts, waiting=MSG_WAITING_APPLY)
    tax_import.refresh_from_db()
    return ready


def tax_import_not_queued(*, tax_import: TaxImport, back_to: str, error: str) -> bool:
    """An apply marked running whose task could not be queued goes back to ``back_to`` (its
    preview, or failed with ``error``); only while still marked applying and never started, so
    a run that did start is left alone. Returns whether it went back."""
    back = {"status": back_to, **({"error": error} if back_to == TaxImportStatus.FAILED else {})}
    reverted = TaxImport.objects.filter(pk=tax_import.pk, status=TaxImportStatus.APPLYING).update(**back)
    tax_import.refresh_from_db()
    return bool(reverted)


def tax_import_resume(*, actor, tax_import: TaxImport) -> bool:
    """Rerun the preview or the apply of an interrupted import (its worker gone): for its own
    uploader or anyone who may run imports of its county. Returns whether to queue
    ``run_tax_import(…, apply=tax_import.status == APPLYING, run=tax_import.run)``.

    Idempotent and safe: a row locked by a running preview or apply is skipped (alive); the new
    run is compare-and-set on the old one and beats at once, so of two resumes at once one
    starts a run; the old run's messages, delivered late, do nothing (StaleRun); an applied
    import is never interrupted. The phase's count of deaths carries on (``attempts``): a file
    that kills its worker is given up after a retry, however it was restarted."""
    _check_actor(actor, tax_import.county)
    with transaction.atomic():
        locked = TaxImport.objects.select_for_update(skip_locked=True).filter(pk=tax_import.pk).first()
        ready = locked is not None and tax_import_is_interrupted(locked)
        if ready:
            applying = locked.status == TaxImportStatus.APPLYING
            ready = _queue_run(
                locked, status=locked.status, attempts=locked.attempts,
                waiting=MSG_WAITING_APPLY if applying else MSG_WAITING_PREVIEW,
            )
    tax_import.refresh_from_db()
    if ready:
        audit.record(actor=actor, action=AUDIT_ACTION, obj=tax_import, detail={"step": "resume", "status": tax_import.status})
    return ready


def tax_import_delivery_started(*, import_id: int, run: str) -> int | None:
    """A task of ``run`` starts: count it on the row. How many deliveries of this phase have
    started without ending (this one included), or None when ``run`` is not the import's current
    run or the import is no longer queued or running (nothing to count: the task will find it so)."""
    if not TaxImport.objects.filter(pk=import_id, run=run, status__in=RUNNING_STATUSES).update(attempts=F("attempts") + 1):
        return None
    return TaxImport.objects.filter(pk=import_id).values_list("attempts", flat=True).first()


def tax_import_delivery_ended(*, import_id: int, run: str) -> None:
    """The task of ``run`` returned or raised: no worker died on it."""
    TaxImport.objects.filter(pk=import_id, run=run, attempts__gt=0).update(attempts=0)


def tax_import_give_up(*, import_id: int, run: str, crashes: int) -> dict:
    """The phase killed its worker ``crashes`` times: a failed import, with a message saying so."""
    message = ERR_CRASHED.format(crashes=crashes, id=import_id)
    if TaxImport.objects.filter(pk=import_id, run=run, status__in=RUNNING_STATUSES).update(
        status=TaxImportStatus.FAILED, error=message
    ):
        set_progress(import_id, 100, message)
        ti = TaxImport.objects.get(pk=import_id)
        audit.record(actor=None, action=AUDIT_ACTION, obj=ti, detail={"step": "given_up", "crashes": crashes})
    return {"error": message}


def tax_import_cancel(*, actor, tax_import: TaxImport) -> None:
    _check_actor(actor, tax_import.county)
    # The condition is in the UPDATE, not only in Python: a cancel that waited for a running
    # apply's row lock sees the applied row and leaves it (PostgreSQL re-checks the WHERE).
    TaxImport.objects.filter(pk=tax_import.pk).exclude(status=TaxImportStatus.APPLIED).update(status=TaxImportStatus.CANCELLED)
    tax_import.refresh_from_db()
