"""The tax import's writer: a filing's reads and writes, inside the caller's transaction.

It writes each ``decide.Batch`` as given — the enrollments to confirm with their new values, the
problem rows (their layouts: see ``decide``) — and decides nothing: which rows are written, and with
what, is the decider's. It fills in only what the database knows as it writes: the id of an
enrollment created by an earlier batch (``Batch.links``), and a paid on the enrollment already has.
PostgreSQL: COPY into temporary tables and one statement per batch, on a database thread sharing the
connection; elsewhere executemany and bulk_create in the caller's thread (see ``Writer``)."""

from __future__ import annotations

from concurrent.futures import Future

from django.db import connection
from django.utils import timezone

from enrollment.models import Enrollment

from ..models.tax_imports import TaxImportRow
from .decide import ENROLLMENT_AT, PROBLEM_COLUMNS, Batch

MAX_QUEUED_WRITES = 3  # batches waiting for the database thread (PostgreSQL)

_HISTORY_SPECIAL = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
PG_TABLE = "canbao_taximport_confirmed"
PG_VALUES = "canbao_taximport_values"


class Writer:
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

    def __init__(self, *, actor, reason: str, write_enrollments: bool):
        self.actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        self.reason = reason[:100]
        self.write_enrollments = write_enrollments
        self.created: dict[tuple[int, int], int] = {}  # (person id, year) → enrollment created here
        self.pg = connection.vendor == "postgresql"
        self._keys: dict[tuple, int] = {}  # (year, tier, status, amounts, code, dates) → k in PG_VALUES
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

    def submit(self, batch: Batch) -> None:
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

    def _link(self, batch: Batch) -> None:
        for index, key in batch.links:
            batch.problems[index][ENROLLMENT_AT] = self.created.get(key)

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
        # One row per confirmed row (c), naming one of the few distinct (year, tier, status,
        # amounts, code, dates) of the filing (u, each copied once): COPY parses 5 columns a row, not 12.
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {PG_TABLE} (id bigint, person_id bigint, village_id bigint, k integer, "
                "voucher text) ON COMMIT DROP"
            )
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {PG_VALUES} (k integer PRIMARY KEY, year integer, tier smallint, "
                "status text, standard numeric(12,2), subsidy numeric(12,2), amount_due numeric(12,2), code text, paid_on date, "
                "confirmed_on date) ON COMMIT DROP"
            )
            cur.execute(f"TRUNCATE {PG_VALUES}")  # left by an earlier import in the same transaction
        given = {
            "person_id": "c.person_id", "year": "u.year", "village_id": "c.village_id", "tier": "u.tier",
            "status": "u.status", "standard": "u.standard", "subsidy": "u.subsidy", "amount_due": "u.amount_due",
            "subsidy_category_code": "u.code", "paid_on": "u.paid_on", "confirmed_on": "u.confirmed_on",
            "tax_voucher": "c.voucher", "created_at": "%(now)s", "updated_at": "%(now)s",
        }
        params = {"now": self._now, "reason": self.reason, "user": self.actor_id}
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
            f"WITH upd AS (UPDATE {qn(table.db_table)} AS e SET status = u.status, tier = u.tier, standard = u.standard, "
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

    def _write_pg(self, batch: Batch, texts: tuple[str, str]) -> None:
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
            if batch.problems:
                self._link(batch)
                with cur.copy(self._problem_copy) as copy:
                    for row in batch.problems:
                        copy.write_row(row)

    # -- elsewhere --
    def _write_generic(self, batch: Batch) -> None:
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
                                status, tier, ops.adapt_decimalfield_value(std, 12, 2),
                                ops.adapt_decimalfield_value(sub, 12, 2), ops.adapt_decimalfield_value(due, 12, 2), code,
                                ops.adapt_datefield_value(paid_on), ops.adapt_datefield_value(confirmed_on), voucher, stamp, eid,
                            )
                            for eid, _p, _v, _y, tier, status, std, sub, due, code, paid_on, confirmed_on, voucher in updates
                        ],
                    )
                    self._history(cur, [u[0] for u in updates], "~")
                if creates:
                    objs = Enrollment.objects.bulk_create(
                        [
                            Enrollment(
                                person_id=pid, year=year, village_id=vid, tier=tier, status=status,
                                standard=std, subsidy=sub, amount_due=due, subsidy_category_code=code, paid_on=paid_on,
                                confirmed_on=confirmed_on, tax_voucher=voucher,
                            )
                            for _e, pid, vid, year, tier, status, std, sub, due, code, paid_on, confirmed_on, voucher in creates
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
        if batch.problems:
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
    status, amounts, code, dates) not seen before — ``keys`` remembers them across batches —, lines for
    PG_TABLE). Ids, numbers, statuses (choice values), amounts and dates need no escaping; codes and vouchers are text
    (vouchers never hold whitespace, see readers)."""
    n = "\\N"
    new, out = [], []
    for eid, pid, vid, year, tier, status, std, sub, due, code, paid_on, confirmed_on, voucher in sorted(confirmed, key=_by_id):
        key = (year, tier, status, std, sub, due, code, paid_on, confirmed_on)
        k = keys.get(key)
        if k is None:
            k = keys[key] = len(keys) + 1
            if code and not code.isalnum():
                code = _copy_field(code)
            new.append(
                f"{k}\t{year}\t{tier}\t{status}\t{n if std is None else std}\t{n if sub is None else sub}\t"
                f"{n if due is None else due}\t{code}\t{paid_on}\t{confirmed_on}\n"
            )
        if "\\" in voucher:
            voucher = _copy_field(voucher)
        out.append(f"{n if eid is None else eid}\t{pid}\t{vid}\t{k}\t{voucher}\n")
    return "".join(new), "".join(out)


def _by_id(confirmed) -> int:
    return confirmed[0] or 0
