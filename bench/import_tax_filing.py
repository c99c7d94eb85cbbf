#!/usr/bin/env python
"""Benchmark: a county-size tax filing (缴费/入库明细), read and imported.

    .venv/bin/python bench/import_tax_filing.py [--rows 600000] [--sqlite/--no-sqlite]
        [--postgres postgres://postgres@127.0.0.1:5432/canbao_bench_taximport | --no-postgres]

Generates a synthetic filing (title rows, header, text and number amounts, text and serial
dates) into bench/out/, then prints in one run: rows/s reading alone with openpyxl read-only and
with python-calamine, and rows/s for the whole import (read, match, write in one transaction) on
SQLite and on PostgreSQL, with the import's peak RSS. Each database is seeded in a fresh
database (a temporary SQLite file; a PostgreSQL database that is dropped and recreated) with one
person per row and a mix that exercises every path of the importer (see ``kind``):

  pending enrollment, amount right → update to confirmed       ~84 %
  no enrollment yet (paid online by themselves) → created       5 %
  low-income identity (subsidy 360) paying 40 → confirmed       6 %
  already confirmed with the same voucher → nothing changes     2 %
  amount differs 1 %, bad ID number (invalid) 1 %
  paid cash to the village and online as well → duplicate     0.1 %
  listed twice with another voucher (extra rows at the end) → duplicate, 0.2 % (half of them
  persons with no enrollment before: the refund candidate is the enrollment created)

Goal: whole import on PostgreSQL ≥ 1/3 of python-calamine's read speed, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _setup import django_for, fresh_database, run_child, seed_county, synthetic_ids  # noqa: E402

OUT = ROOT / "bench" / "out"
COUNTY = "411325"
YEAR = 2025
VILLAGES = 400  # 16 townships × 25 villages
BENCH_USER = "bench_tax"  # the tax-office user who confirms the import


def kind(i: int) -> str:
    """What row ``i`` of the filing (and the seeded database) exercises."""
    r = i % 100
    if r == 17:
        return "mismatch"
    if r == 42:
        return "bad_id"
    if r in (7, 27, 47, 67, 87):
        return "create"
    if r in (11, 61):
        return "already"
    if r in (3, 13, 33, 53, 73, 93):
        return "subsidised"
    if i % 1000 == 23:
        return "cash_and_online"
    return "update"


def twice(i: int) -> bool:
    """Rows listed a second time, with another voucher, at the end of the file."""
    return i % 1000 in (81, 87)  # 87: a person with no enrollment before the import


def voucher(i: int, again: bool = False) -> str:
    return f"3411{i:012d}" + ("D" if again else "")


def generate(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("缴费明细")
    ws.append(["内乡县城乡居民基本医疗保险缴费明细（入库）"])
    ws.append(["导出时间：2024年12月31日", None, None, "单位：元"])
    ws.append(["序号", "姓名", "公民身份号码", "缴费档次", "实缴金额（元）", "缴费日期", "入库日期", "电子税票号", "缴费渠道", "参保地"])
    channels = ("微信", "支付宝", "代征", "电子税务局", "现金")
    again = []
    for i, id_number in enumerate(synthetic_ids(COUNTY, rows)):
        k = kind(i)
        amount = (400, "400.00", "400元")[i % 3]
        paid = date(2024, 9, 1) + timedelta(days=i % 120)
        paid_cell = paid.isoformat() if i % 2 else f"{paid.year}年{paid.month}月{paid.day}日"
        treasury = (paid - date(1899, 12, 30)).days + 1  # an Excel serial
        channel = channels[i % 5]
        if k == "mismatch":
            amount = 380  # amount differs
        elif k == "subsidised":
            amount = "40.00"
        elif k == "cash_and_online":
            channel = "微信"
        if k == "bad_id":
            id_number = "51" + id_number[2:17] + "0"  # wrong check digit / unknown
        row = [i + 1, f"居民{i}", id_number, 1, amount, paid_cell, treasury, voucher(i), channel, f"第{i % VILLAGES}村"]
        ws.append(row)
        if twice(i):
            again.append(row[:7] + [voucher(i, again=True), "电子税务局", row[9]])
    for n, row in enumerate(again):
        ws.append([rows + n + 1, *row[1:]])
    ws.append(["合计", None, None, None, rows * 400])
    wb.save(path)


def read_speed(path: Path, engine: str) -> dict:
    """The reader's own speed, the yardstick of the goal: without our guard (timed apart, see
    ``guard_speed``), so the guard's cost counts against the import, not the yardstick."""
    from unittest import mock

    from collections_app.tax_import import readers
    from core import intake

    t, c = time.perf_counter(), time.process_time()
    with mock.patch.object(intake, "check_sheet", lambda *a, **k: None):
        sheet = readers.open_sheet(str(path), "xlsx", engine=engine)
        n = sum(1 for _ in sheet.rows())
        sheet.close()
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    return {"rows": n, "seconds": round(secs, 2), "rows_per_s": round(n / secs), "cpu_seconds": round(cpu, 2)}


def guard_speed(path: Path) -> dict:
    """The shared guard's scan of the file (core.spreadsheets.check_sheet), which every
    import runs before calamine (a tax filing's once, at upload: not in the timed import)."""
    from core.spreadsheets import check_sheet

    t, c = time.perf_counter(), time.process_time()
    check_sheet(str(path), "xlsx")
    return {"seconds": round(time.perf_counter() - t, 2), "cpu_seconds": round(time.process_time() - c, 2)}


# --- child processes (one database each) --------------------------------------------------------
def child_seed(url: str, rows: int) -> dict:
    fresh_database(url)
    django_for(url)
    from decimal import Decimal

    from django.db import transaction

    from enrollment.models import Enrollment, Household, Person, PersonIdentity
    from subsidies.models import CategorySubsidy, PolicyYear, SubsidyCategory, Tier

    t = time.perf_counter()
    county, villages = seed_county(COUNTY, "内乡县", user=BENCH_USER, role="tax", villages=VILLAGES)
    policy = PolicyYear.objects.create(county=county, year=YEAR, window_start=date(2024, 9, 1), window_end=date(2024, 12, 31))
    Tier.objects.create(policy=policy, number=1, name="一档", standard=Decimal("400.00"))
    dibao = SubsidyCategory.objects.create(policy=policy, code="dibao", name="低保对象", is_low_income=True)
    CategorySubsidy.objects.create(category=dibao, tier=1, amount=Decimal("360.00"))
    batch = 10000
    ids = synthetic_ids(COUNTY, rows)
    with transaction.atomic():
        for start in range(0, rows, batch):
            n = min(batch, rows - start)
            hh = Household.objects.bulk_create(
                [Household(village=villages[(start + k) % VILLAGES], number=f"{start + k:07d}") for k in range(n)]
            )
            people = []
            for k, h in enumerate(hh):
                idn = next(ids)
                people.append(Person(id_number=idn, name=f"居民{start + k}", sex="M" if int(idn[16]) % 2 else "F", birth_date=date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])), household=h))
            people = Person.objects.bulk_create(people)
            enrollments, identities = [], []
            for k, p in enumerate(people):
                i = start + k
                what = kind(i)
                if what == "create":
                    continue
                e = Enrollment(person=p, year=YEAR, village_id=p.household.village_id, tier=1)
                if what == "already":
                    e.status, e.tax_voucher, e.confirmed_on, e.paid_on = "confirmed", voucher(i), date(2024, 10, 1), date(2024, 10, 1)
                    e.standard, e.subsidy, e.amount_due = Decimal("400.00"), Decimal("0.00"), Decimal("400.00")
                elif what == "cash_and_online":
                    e.status, e.paid_on = "paid", date(2024, 9, 15)
                    e.standard, e.subsidy, e.amount_due = Decimal("400.00"), Decimal("0.00"), Decimal("400.00")
                elif what == "subsidised":
                    identities.append(PersonIdentity(person=p, category=dibao, year=YEAR, certified_on=date(2024, 8, 1)))
                enrollments.append(e)
            Enrollment.objects.bulk_create(enrollments)
            PersonIdentity.objects.bulk_create(identities)
    if url.startswith("postgres"):
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    return {"seed_seconds": round(time.perf_counter() - t, 1)}


def child_import(url: str, path: str) -> dict:
    """The import as a tax-office user's confirm runs it (services.tax_import_apply: read, match,
    write, problem rows, refund candidates, audit, commit); the upload is stored first, untimed."""
    django_for(url)
    from django.conf import settings

    from collections_app.tax_import import services
    from core.models import Region, User

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="canbao_bench_media_")
    county = Region.objects.get(code=COUNTY)
    actor = User.objects.get(username=BENCH_USER)
    with open(path, "rb") as fh:
        ti = services.tax_import_create(actor=actor, county=county, upload=fh, name=Path(path).name, year=YEAR)
    t, c = time.perf_counter(), time.process_time()
    summary = services.tax_import_apply(actor=actor, tax_import=ti, require_preview=False)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    keys = (
        "rows_read", "confirmed", "already_confirmed", "amount_mismatch", "unknown_person", "duplicate", "invalid",
        "refund_candidates", "created_enrollments",
    )
    return {
        "seconds": round(secs, 2), "rows_per_s": round(summary["rows_read"] / secs), "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(rss_mb),
        "summary": {k: summary[k] for k in keys},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 600_000)))
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/canbao_bench_taximport"))
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-openpyxl", action="store_true", help="skip the (slow) openpyxl read measurement")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        kind, url, extra = args.child[0], args.child[1], args.child[2]
        result = child_seed(url, int(extra)) if kind == "seed" else child_import(url, extra)
        print(json.dumps(result, ensure_ascii=False))
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"tax_filing_mix_{args.rows}.xlsx"  # the mix of kind(); older files had only updates
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path.name}: {args.rows} rows, {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")
    results = {"rows": args.rows, "read": {}, "import": {}}
    for engine in ("calamine",) if args.no_openpyxl else ("openpyxl", "calamine"):
        results["read"][engine] = r = read_speed(path, engine)
        print(f"read only   {engine:<9} {r['rows_per_s']:>9,} rows/s  ({r['rows']} rows in {r['seconds']} s, CPU {r['cpu_seconds']} s)")
    results["guard"] = g = guard_speed(path)
    print(f"guard scan  (check_sheet) {g['seconds']} s, CPU {g['cpu_seconds']} s (at upload, before the timed import: a run reads the stored file by its digest)")
    targets = []
    if not args.no_sqlite:
        targets.append(("sqlite", f"sqlite:///{tempfile.gettempdir()}/canbao_bench_taximport.sqlite3"))
    if not args.no_postgres:
        targets.append(("postgresql", args.postgres))
    for label, url in targets:
        if url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        seed = run_child(__file__, "--child", "seed", url, str(args.rows))
        res = run_child(__file__, "--child", "import", url, str(path))
        res["seed_seconds"] = seed["seed_seconds"]
        results["import"][label] = res
        print(
            f"whole import {label:<10} {res['rows_per_s']:>9,} rows/s  ({res['seconds']} s, CPU of this process {res['cpu_seconds']} s, peak RSS {res['peak_rss_mb']} MB; "
            f"seeding took {res['seed_seconds']} s) {json.dumps(res['summary'], ensure_ascii=False)}"
        )
    calamine = results["read"]["calamine"]["rows_per_s"]
    if "postgresql" in results["import"]:
        pg = results["import"]["postgresql"]
        ok = pg["rows_per_s"] * 3 >= calamine and pg["peak_rss_mb"] < 1024
        print(f"goal (PostgreSQL import ≥ calamine/3 = {calamine // 3:,} rows/s, RSS < 1024 MB): {'met' if ok else 'NOT met'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (figures are wall-clock)")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
