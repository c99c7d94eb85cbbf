"""Tax filing import: upload → preview (a dry run of the same code path) → apply (one transaction).

Speed: rows are streamed, matched by chunks of ID numbers (one query for persons, one for
their enrollments, one for their subsidy identities) and written per chunk with one
executemany UPDATE, one bulk INSERT and one INSERT … SELECT into the history table — all inside
ONE ``transaction.atomic`` so a failure (or a killed worker) leaves nothing half-applied.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from enrollment import audit
from enrollment.choices import EnrollmentStatus, RegionLevel
from enrollment.models import Enrollment, Household, Person, Region
from subsidies.calc import to_money
from enrollment.scoping import region_in_scope
from enrollment.spreadsheets import UploadError, check_upload

from ..models.tax_imports import PROBLEM_OUTCOMES, RowOutcome, TaxImport, TaxImportRow, TaxImportStatus
from . import readers
from .matching import OwedBook, decide

log = logging.getLogger(__name__)

ERR_NO_PERMISSION = "只有税务局工作人员可以导入税务缴费数据。"
ERR_COUNTY = "只能导入本县的税务数据。"
ERR_NOT_COUNTY = "请选择县/区。"
ERR_NOT_PREVIEWED = "请先完成预检，再确认导入。"
ERR_CANCELLED = "该批次已放弃，不能导入。"
ERR_UNEXPECTED = "导入时发生意外错误，数据库未做任何修改。请联系管理员（批次 {id}）。"
AUDIT_ACTION = "tax_import"

CHUNK = 5000
COUNT_KEYS = [o.value for o in RowOutcome]


class ImportFailed(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Progress (kept in the cache: the apply transaction is invisible to other connections) ---------
def progress_key(import_id: int) -> str:
    return f"taximport:{import_id}:progress"


def set_progress(import_id: int, percent: int, message: str) -> None:
    cache.set(progress_key(import_id), {"percent": int(percent), "message": message}, 24 * 3600)


def get_progress(import_id: int) -> dict | None:
    return cache.get(progress_key(import_id))


# --- The engine -----------------------------------------------------------------------------------
class _Writer:
    """Collects one chunk's changes and writes them with a handful of statements."""

    def __init__(self, *, actor, tax_import, reason: str):
        self.actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        self.tax_import = tax_import
        self.reason = reason[:100]
        self.updates: list[tuple] = []
        self._pg_ready = False
        self._pending = None
        self._pool = None
        self.creates: list[Enrollment] = []
        self.problems: list[TaxImportRow] = []
        table = Enrollment._meta.db_table
        qn = connection.ops.quote_name
        self.update_sql = (
            f"UPDATE {qn(table)} SET {qn('status')} = %s, {qn('tier')} = %s, {qn('standard')} = %s, "
            f"{qn('subsidy')} = %s, {qn('amount_due')} = %s, {qn('subsidy_category_code')} = %s, "
            f"{qn('paid_on')} = COALESCE({qn('paid_on')}, %s), {qn('confirmed_on')} = %s, {qn('tax_voucher')} = %s, "
            f"{qn('updated_at')} = %s WHERE {qn('id')} = %s"
        )
        hist = Enrollment.history.model
        special = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
        cols = [f.column for f in hist._meta.concrete_fields if f.column not in special]
        collist = ", ".join(qn(c) for c in cols)
        self.history_sql = (
            f"INSERT INTO {qn(hist._meta.db_table)} ({collist}, {qn('history_date')}, {qn('history_change_reason')}, "
            f"{qn('history_type')}, {qn('history_user_id')}) SELECT {collist}, %s, %s, %s, %s FROM {qn(table)} "
            f"WHERE {qn('id')} IN ({{ids}})"
        )

    def flush(self, *, write_enrollments: bool) -> None:
        ops = connection.ops
        now = timezone.now()
        if write_enrollments and (self.updates or self.creates):
            with connection.cursor() as cur:
                if self.updates and connection.vendor == "postgresql":
                    self._update_pg_background(cur, now)
                elif self.updates:
                    stamp = ops.adapt_datetimefield_value(now)
                    params = [
                        (
                            EnrollmentStatus.CONFIRMED, tier, ops.adapt_decimalfield_value(std, 12, 2),
                            ops.adapt_decimalfield_value(sub, 12, 2), ops.adapt_decimalfield_value(due, 12, 2), code,
                            ops.adapt_datefield_value(paid_on), ops.adapt_datefield_value(confirmed_on), voucher, stamp, pk,
                        )
                        for pk, tier, std, sub, due, code, paid_on, confirmed_on, voucher in self.updates
                    ]
                    cur.executemany(self.update_sql, params)
                    self._history(cur, [u[0] for u in self.updates], "~", now)
                if self.creates:
                    created = Enrollment.objects.bulk_create(self.creates, batch_size=2000)
                    ids = [e.pk for e in created if e.pk]
                    if len(ids) != len(created):  # backends that do not return ids
                        ids = list(
                            Enrollment.objects.filter(
                                person_id__in=[e.person_id for e in created], year__in={e.year for e in created}
                            ).values_list("id", flat=True)
                        )
                    self._history(cur, ids, "+", now)
        if self.problems and self.tax_import is not None:
            TaxImportRow.objects.bulk_create(self.problems, batch_size=2000)
        self.updates, self.creates, self.problems = [], [], []

    def _update_pg_background(self, cur, now) -> None:
        """Hand the chunk's UPDATE to a writer thread on the SAME connection (same transaction;
        psycopg serialises its use), so that the server writes chunk N while Python parses chunk N+1."""
        if not self._pg_ready:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS canbao_taximport_upd (id bigint PRIMARY KEY, tier smallint, "
                "standard numeric(12,2), subsidy numeric(12,2), amount_due numeric(12,2), code varchar(30), "
                "paid_on date, confirmed_on date, voucher varchar(40)) ON COMMIT DROP"
            )
            self._pg_ready = True
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taximport-writer")
        self.wait()  # one chunk in flight at most; re-raises a failed write
        raw = connection.connection
        updates = self.updates
        self._pending = self._pool.submit(self._update_pg, raw, updates, now)

    def wait(self, *, raise_errors: bool = True) -> None:
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is not None:
            try:
                pending.result()
            except Exception:
                if raise_errors:
                    raise

    def close(self) -> None:
        self.wait(raise_errors=False)
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)

    def _update_pg(self, raw, updates, now) -> None:
        """PostgreSQL: COPY the chunk into a temporary table, then one UPDATE … FROM and one
        INSERT … SELECT into the history table (per-row statements are ~10x slower)."""
        qn = connection.ops.quote_name
        table = qn(Enrollment._meta.db_table)
        cur = raw.cursor()
        cur.execute("TRUNCATE canbao_taximport_upd")
        with cur.copy(
            "COPY canbao_taximport_upd (id, tier, standard, subsidy, amount_due, code, paid_on, confirmed_on, voucher) FROM STDIN"
        ) as copy:
            for row in updates:
                copy.write_row(row)
        cur.execute(
            f"UPDATE {table} AS e SET status = %s, tier = u.tier, standard = u.standard, subsidy = u.subsidy, "
            "amount_due = u.amount_due, subsidy_category_code = u.code, paid_on = COALESCE(e.paid_on, u.paid_on), "
            "confirmed_on = u.confirmed_on, tax_voucher = u.voucher, updated_at = %s "
            "FROM canbao_taximport_upd AS u WHERE e.id = u.id",
            [EnrollmentStatus.CONFIRMED.value, now],
        )
        cur.execute(
            self.history_sql.format(ids="SELECT id FROM canbao_taximport_upd"), [now, self.reason, "~", self.actor_id]
        )

    def _history(self, cur, ids, kind: str, now) -> None:
        stamp = connection.ops.adapt_datetimefield_value(now)
        step = max(100, (connection.features.max_query_params or 999) - 10)
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            sql = self.history_sql.format(ids=", ".join(["%s"] * len(part)))
            cur.execute(sql, [stamp, self.reason, kind, self.actor_id, *part])


def _q(name):
    return connection.ops.quote_name(name)


PERSON_SQL = (
    "SELECT p.id, p.id_number, p.is_student, h.village_id, e.id, e.year, e.status, e.tier, e.tax_voucher, "
    "e.amount_due, e.standard, e.subsidy, e.subsidy_category_code FROM {person} p "
    "JOIN {household} h ON h.id = p.household_id "
    "LEFT JOIN {enrollment} e ON e.person_id = p.id AND e.year IN ({years}) WHERE p.id_number {IN}"
)


def select_in(sql: str, values) -> list[tuple]:
    """Run ``sql`` whose ``{IN}`` takes a list of values: one array parameter on PostgreSQL, a
    placeholder list elsewhere (raw SQL: the ORM's per-value preparation costs more than the query)."""
    values = list(values)
    if not values:
        return []
    from subsidies.models import PersonIdentity

    tables = {
        "person": _q(Person._meta.db_table), "household": _q(Household._meta.db_table), "region": _q(Region._meta.db_table),
        "enrollment": _q(Enrollment._meta.db_table), "identity": _q(PersonIdentity._meta.db_table),
    }
    out = []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(sql.format(IN="= ANY(%s)", **tables), [values])
            return cur.fetchall()
        step = max(100, (connection.features.max_query_params or 999) - 10)
        for start in range(0, len(values), step):
            part = values[start : start + step]
            cur.execute(sql.format(IN="IN (" + ", ".join(["%s"] * len(part)) + ")", **tables), part)
            out.extend(cur.fetchall())
    return out


def _money(value):
    return None if value is None else to_money(value)


def _truncate(value: str, n: int) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


def run_filing(
    *, sheet, county, default_year: int | None, actor=None, dry_run: bool, tax_import: TaxImport | None = None,
    progress=None, chunk_size: int = CHUNK,
) -> dict:
    """Read, match and (unless ``dry_run``) apply one filing. The caller holds the transaction.

    Returns the summary: rows read, a count per outcome, refund candidates, skipped lines.
    """
    if not dry_run and not connection.in_atomic_block:
        with transaction.atomic():
            return run_filing(
                sheet=sheet, county=county, default_year=default_year, actor=actor, dry_run=dry_run,
                tax_import=tax_import, progress=progress, chunk_size=chunk_size,
            )
    filing, rows = readers.read_filing(sheet, default_year=default_year, max_rows=settings.CANBAO_MAX_IMPORT_ROWS)
    counts: Counter = Counter({k: 0 for k in COUNT_KEYS})
    refund_candidates = 0
    created = 0
    seen: dict[str, tuple[int, str]] = {}
    book = OwedBook(county)
    writer = _Writer(actor=actor, tax_import=tax_import, reason=f"税务数据导入 #{tax_import.pk if tax_import else '-'}")
    villages = {
        v["id"]: v
        for v in Region.objects.filter(level=RegionLevel.VILLAGE, parent__parent=county).values("id", "name", "parent_id")
    }
    townships = {t.name: t.id for t in Region.objects.filter(level=RegionLevel.TOWNSHIP, parent=county)}
    village_by_name = {v["name"]: v["parent_id"] for v in villages.values()}
    today = timezone.localdate()
    total = max(filing.total_rows, 1)
    done = 0

    def township_hint(row) -> int | None:
        if row.township and row.township in townships:
            return townships[row.township]
        for name, tid in village_by_name.items():
            if row.place and (row.place == name or row.place.endswith(name)):
                return tid
        return None

    def problem(row, decision_outcome, message, *, person=None, enrollment_id=None, township_id=None, owed=None, refund=False):
        if tax_import is None:
            return
        writer.problems.append(
            TaxImportRow(
                tax_import=tax_import, row_number=row.row_number, outcome=decision_outcome, message=_truncate(message, 500),
                id_number=row.id_number or readers.shown(row.raw_id), name=row.name[:50], amount=readers.shown(row.raw_amount),
                owed=owed, paid_on=readers.shown(row.raw_date), voucher=row.voucher[:60], channel=row.channel[:40], place=row.place[:100],
                year=row.year, township_id=township_id, person_id=person, enrollment_id=enrollment_id,
                refund_candidate=refund,
            )
        )

    def process(chunk) -> None:
        nonlocal refund_candidates, created
        valid = [r for r in chunk if r.errors is None]
        ids = {r.id_number for r in valid}
        years = {r.year for r in valid}
        persons, enrollments = {}, {}
        year_list = ", ".join(str(int(y)) for y in years) or "0"
        for (
            pid, id_number, student, village_id, eid, year, status, tier, voucher, due, std, sub, code,
        ) in select_in(PERSON_SQL.replace("{years}", year_list), ids):
            persons[id_number] = {
                "id": pid, "id_number": id_number, "is_student": bool(student), "household__village_id": village_id,
                "local": village_id in villages,
            }
            if eid is not None:
                enrollments[(pid, year)] = {
                    "id": eid, "status": status, "tier": tier, "tax_voucher": voucher, "amount_due": _money(due),
                    "standard": _money(std), "subsidy": _money(sub), "subsidy_category_code": code,
                }
        local_ids = [p["id"] for p in persons.values() if p["local"]]
        book.load_identities(local_ids, years, select_in=select_in)
        for row in chunk:
            if row.errors is not None:
                counts[RowOutcome.INVALID] += 1
                problem(row, RowOutcome.INVALID, row.error, township_id=township_hint(row))
                continue
            p = persons.get(row.id_number)
            known = p is not None and p["local"]
            key = f"{row.id_number}|{row.year}"
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = (row.row_number, row.voucher)
            if not known:
                decision = decide(year=row.year, amount=row.amount, voucher=row.voucher, online=row.online, known=False, other_county=p is not None)
                counts[decision.outcome] += 1
                problem(row, decision.outcome, decision.message, township_id=township_hint(row))
                continue
            e = enrollments.get((p["id"], row.year))
            tier = row.tier or (e["tier"] if e else 1)
            owed_value, owed_detail, owed_error = None, None, ""
            status = e["status"] if e else None
            if e is not None and e["amount_due"] is not None and e["tier"] == tier and status in (
                EnrollmentStatus.PAID, EnrollmentStatus.DECLARED,
            ):
                owed_value = e["amount_due"]  # what was owed when the money was taken
            else:
                owed_value, owed_detail, owed_error = book.owed(person_id=p["id"], year=row.year, tier=tier, student=p["is_student"])
            decision = decide(
                year=row.year, amount=row.amount, voucher=row.voucher, online=row.online, known=True,
                earlier_in_file=earlier, status=status, enrolled_voucher=e["tax_voucher"] if e else "",
                owed=owed_value, owed_error=owed_error, tier=tier,
            )
            counts[decision.outcome] += 1
            township_id = villages.get(p["household__village_id"], {}).get("parent_id")
            if decision.outcome == RowOutcome.CONFIRMED:
                confirmed_on = row.treasury_on or row.paid_on or today
                paid_on = row.paid_on or row.treasury_on or confirmed_on
                if owed_detail is not None:
                    std, sub, due = owed_detail.standard, owed_detail.subsidy, owed_detail.self_pay
                    code = owed_detail.category.code if owed_detail.category else ""
                else:
                    std, sub, due, code = e["standard"], e["subsidy"], e["amount_due"], e["subsidy_category_code"]
                if e is not None:
                    writer.updates.append((e["id"], tier, std, sub, due, code, paid_on, confirmed_on, row.voucher))
                else:
                    created += 1
                    writer.creates.append(
                        Enrollment(
                            person_id=p["id"], year=row.year, village_id=p["household__village_id"], tier=tier,
                            status=EnrollmentStatus.CONFIRMED, standard=std, subsidy=sub, amount_due=due,
                            subsidy_category_code=code, paid_on=paid_on, confirmed_on=confirmed_on, tax_voucher=row.voucher,
                        )
                    )
            elif decision.outcome != RowOutcome.ALREADY_CONFIRMED:
                refund_candidates += decision.refund_candidate
                problem(
                    row, decision.outcome, decision.message, person=p["id"], enrollment_id=e["id"] if e else None,
                    township_id=township_id, owed=owed_value if decision.outcome == RowOutcome.AMOUNT_MISMATCH else None,
                    refund=decision.refund_candidate,
                )
        writer.flush(write_enrollments=not dry_run)

    chunk = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                process(chunk)
                done += len(chunk)
                chunk = []
                if progress:
                    progress(min(99, int(done * 100 / total)), f"已处理 {done} / 约 {filing.total_rows} 行")
        if chunk:
            process(chunk)
            done += len(chunk)
        writer.wait()
    finally:
        writer.close()  # never leave a write running when the transaction ends
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
    """Hand duplicate payments to the refunds workflow as candidates (待核实)."""
    from ..services import refund_flag_duplicate

    rows = TaxImportRow.objects.filter(tax_import=tax_import, refund_candidate=True, enrollment__isnull=False).select_related(
        "enrollment__village"
    )
    for row in rows:
        try:
            amount = readers.parse_amount(row.amount)
        except readers.CellError:
            amount = 0
        refund_flag_duplicate(
            enrollment=row.enrollment, amount=amount, source=f"税务数据导入 #{tax_import.pk} 第{row.row_number}行",
            note=row.message,
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
    except UploadError as exc:
        raise ImportFailed(exc.message) from None
    upload.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: upload.read(1 << 20), b""):
        digest.update(block)
    upload.seek(0)
    ext = "csv" if kind == "csv" else "xlsx"
    ti = TaxImport(county=county, year=year or default_year_for(county), original_name=name[:200], kind=kind, uploaded_by=actor if actor else None)
    ti.file.save(f"{digest.hexdigest()[:16]}.{ext}", File(upload), save=False)
    ti.full_clean(exclude=["file"])
    ti.save()
    audit.record(actor=actor, action=AUDIT_ACTION, obj=ti, detail={"step": "upload", "file": ti.original_name, "county": county.code})
    return ti


def _open(ti: TaxImport):
    path = ti.file.path
    if ti.kind == "csv":
        with open(path, "rb") as fh:
            return readers.open_sheet(fh, "csv")
    return readers.open_sheet(path, "xlsx")


def _execute(ti: TaxImport, *, actor, dry_run: bool) -> dict:
    def progress(percent, message):
        set_progress(ti.pk, percent, message)

    sheet = _open(ti)
    try:
        TaxImportRow.objects.filter(tax_import=ti).delete()
        return run_filing(sheet=sheet, county=ti.county, default_year=ti.year, actor=actor, dry_run=dry_run, tax_import=ti, progress=progress)
    finally:
        sheet.close()


def _fail(ti: TaxImport, message: str, *, status=TaxImportStatus.FAILED) -> None:
    TaxImport.objects.filter(pk=ti.pk).update(status=status, error=message)
    set_progress(ti.pk, 100, message)
    ti.refresh_from_db()


def tax_import_preview(*, tax_import: TaxImport) -> dict:
    """The dry run: the same code path as apply, writing only the problem rows and the preview."""
    ti = tax_import
    if ti.status in (TaxImportStatus.APPLIED, TaxImportStatus.CANCELLED):
        return ti.summary
    TaxImport.objects.filter(pk=ti.pk).update(status=TaxImportStatus.PREVIEWING, error="")
    set_progress(ti.pk, 1, "正在预检…")
    try:
        with transaction.atomic():
            summary = _execute(ti, actor=None, dry_run=True)
            TaxImport.objects.filter(pk=ti.pk).update(status=TaxImportStatus.PREVIEWED, preview=summary, error="")
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s preview failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk))
        raise
    set_progress(ti.pk, 100, "预检完成")
    ti.refresh_from_db()
    return summary


def tax_import_apply(*, actor, tax_import: TaxImport, require_preview: bool = True) -> dict:
    """Apply a previewed import atomically. Idempotent: an applied import is left as it is."""
    ti = tax_import
    _check_actor(actor, ti.county)
    ready = [TaxImportStatus.PREVIEWED, TaxImportStatus.FAILED] + ([] if require_preview else [TaxImportStatus.UPLOADED])
    TaxImport.objects.filter(pk=ti.pk, status__in=ready).update(
        status=TaxImportStatus.APPLYING
    )
    try:
        with transaction.atomic():
            locked = TaxImport.objects.select_for_update().get(pk=ti.pk)
            if locked.status == TaxImportStatus.APPLIED:
                return locked.result
            if locked.status == TaxImportStatus.CANCELLED:
                raise ImportFailed(ERR_CANCELLED)
            if locked.status == TaxImportStatus.UPLOADED and require_preview:
                raise ImportFailed(ERR_NOT_PREVIEWED)
            set_progress(ti.pk, 1, "正在导入…")
            summary = _execute(locked, actor=actor, dry_run=False)
            now = timezone.now()
            TaxImport.objects.filter(pk=ti.pk).update(
                status=TaxImportStatus.APPLIED, result=summary, applied_at=now, applied_by=actor if actor else None, error=""
            )
            audit.record(
                actor=actor, action=AUDIT_ACTION, obj=locked,
                detail={"step": "apply", "file": locked.original_name, **{k: summary[k] for k in ("rows_read", *COUNT_KEYS)}},
            )
    except ImportFailed:
        raise
    except (readers.ReaderError, UploadError) as exc:
        _fail(ti, exc.message)
        raise ImportFailed(exc.message) from None
    except Exception:
        log.exception("tax import %s apply failed", ti.pk)
        _fail(ti, ERR_UNEXPECTED.format(id=ti.pk), status=TaxImportStatus.FAILED)
        raise
    set_progress(ti.pk, 100, "导入完成")
    ti.refresh_from_db()
    return summary


def tax_import_mark_applying(*, actor, tax_import: TaxImport) -> bool:
    """Before queuing the apply task: show the import as running (so pages poll its progress)."""
    _check_actor(actor, tax_import.county)
    changed = TaxImport.objects.filter(
        pk=tax_import.pk, status__in=[TaxImportStatus.PREVIEWED, TaxImportStatus.FAILED]
    ).update(status=TaxImportStatus.APPLYING)
    set_progress(tax_import.pk, 0, "等待导入…")
    tax_import.refresh_from_db()
    return bool(changed)


def tax_import_cancel(*, actor, tax_import: TaxImport) -> None:
    _check_actor(actor, tax_import.county)
    if tax_import.status != TaxImportStatus.APPLIED:
        TaxImport.objects.filter(pk=tax_import.pk).update(status=TaxImportStatus.CANCELLED)
        tax_import.refresh_from_db()


def default_year_for(county, today: date | None = None) -> int | None:
    """The benefit year being collected: the latest policy year of the county, else next year."""
    from subsidies.models import PolicyYear

    latest = PolicyYear.objects.filter(county=county).order_by("-year").values_list("year", flat=True).first()
    return latest or (today or timezone.localdate()).year + 1
