#!/usr/bin/env python
"""Benchmark: a county-size tax filing (缴费/入库明细), read and imported, three times.

    .venv/bin/python bench/import_tax_filing.py [--rows 600000] [--runs 3] [--sqlite/--no-sqlite]
        [--postgres postgres://postgres@127.0.0.1:5432/canbao_bench_taximport | --no-postgres]
        [--reuse-seed] [--openpyxl]

Generates a synthetic filing (title rows, header, text and number amounts, text and serial
dates) into bench/out/, then, on each database (a temporary SQLite file; a PostgreSQL database),
``--runs`` times in turn: rows/s of python-calamine reading the file alone, then rows/s of the
whole import (read, match, write in one transaction) with its peak RSS, each import in its own
child process on a database in the seeded state. The database is seeded once (into
``<name>_seed``, a template) and copied before each run (CREATE DATABASE … TEMPLATE, or a file
copy for SQLite), so every run starts from the same state without seeding again;
``--reuse-seed`` keeps a seed left by an earlier invocation with the same --rows. The seed has
one person per row and a mix that exercises every path of the importer (see ``kind``):

  pending enrollment, amount right → update to confirmed       ~84 %
  no enrollment yet (paid online by themselves) → created       5 %
  low-income identity (subsidy 360) paying 40 → confirmed       6 %
  already confirmed with the same voucher → nothing changes     2 %
  amount differs 1 %, bad ID number (invalid) 1 %
  paid cash to the village and online as well → duplicate     0.1 %
  listed twice with another voucher (extra rows at the end) → duplicate, 0.2 % (half of them
  persons with no enrollment before: the refund candidate is the enrollment created)

Goal (issue 19), on PostgreSQL: median import rows/s ≥ 0.4 × median calamine read rows/s, peak
RSS ≤ 500 MB at 600,000 rows. The load average is printed with the figures: the machine is
shared, and a figure taken under load says so.
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
from _setup import (  # noqa: E402
    copy_database,
    database_exists,
    django_for,
    fresh_database,
    run_child,
    seed_county,
    synthetic_ids,
)

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


TARGET_RATIO = 0.4  # issue 19: the import at ≥ 0.4 × calamine's read speed (medians of the runs)
TARGET_RSS_MB = 500  # and its peak RSS ≤ 500 MB (at 600,000 rows)


def _median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _import_runs(label: str, url: str, path: Path, args) -> dict:
    """Seed once (or reuse the seed), then ``args.runs`` times: calamine's read, then the import
    on a fresh copy of the seed. The figures of each run, their medians and the ratio."""
    seed_url = f"{url}_seed" if url.startswith("postgres") else url.replace(".sqlite3", "_seed.sqlite3")
    marker = OUT / f"seed_{label}_{args.rows}.json"  # which --rows the kept seed holds
    if args.reuse_seed and database_exists(seed_url) and marker.exists():
        print(f"{label}: reusing the seed {seed_url} ({args.rows} rows)")
    else:
        if not url.startswith("postgres"):
            Path(seed_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        seed = run_child(__file__, "--child", "seed", seed_url, str(args.rows))
        marker.write_text(json.dumps(seed))
        print(f"{label}: seeded {seed_url} in {seed['seed_seconds']} s")
    runs = []
    for n in range(1, args.runs + 1):
        read = read_speed(path, "calamine")
        copy_database(seed_url, url)
        res = run_child(__file__, "--child", "import", url, str(path))
        res["read_rows_per_s"] = read["rows_per_s"]
        res["load"] = os.getloadavg()[0]
        runs.append(res)
        print(
            f"{label} run {n}: calamine read {read['rows_per_s']:>8,} rows/s ({read['seconds']} s) | "
            f"import {res['rows_per_s']:>8,} rows/s ({res['seconds']} s, CPU {res['cpu_seconds']} s) "
            f"ratio {res['rows_per_s'] / read['rows_per_s']:.2f} | peak RSS {res['peak_rss_mb']} MB | {_load()}"
        )
    if len({json.dumps(r["summary"], sort_keys=True) for r in runs}) != 1:
        raise SystemExit(f"{label}: the runs disagree on what the import did: {[r['summary'] for r in runs]}")
    read_median = _median([r["read_rows_per_s"] for r in runs])
    import_median = _median([r["rows_per_s"] for r in runs])
    ratio = import_median / read_median
    rss = max(r["peak_rss_mb"] for r in runs)
    print(f"{label} summary: {json.dumps(runs[0]['summary'], ensure_ascii=False)}")
    print(f"{label} median calamine read {read_median:>9,.0f} rows/s")
    print(f"{label} median import        {import_median:>9,.0f} rows/s")
    ok_ratio, ok_rss = ratio >= TARGET_RATIO, rss <= TARGET_RSS_MB
    print(f"{label} ratio (median/median) {ratio:.2f}   target ≥ {TARGET_RATIO}   {'met' if ok_ratio else 'NOT met'}")
    print(f"{label} peak RSS of the import {rss} MB (largest of the runs)   target ≤ {TARGET_RSS_MB} MB   {'met' if ok_rss else 'NOT met'}")
    print(f"{label} {_load()} (wall-clock figures)")
    return {
        "runs": runs, "read_median": read_median, "import_median": import_median, "ratio": round(ratio, 3),
        "peak_rss_mb": rss, "met": ok_ratio and ok_rss,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 600_000)))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/canbao_bench_taximport"))
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--reuse-seed", action="store_true", help="keep the seed an earlier invocation left for the same --rows")
    ap.add_argument("--openpyxl", action="store_true", help="also time openpyxl read-only (slow), once")
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
    print(f"start: {_load()}")
    results = {"rows": args.rows, "read": {}, "import": {}}
    if args.openpyxl:
        results["read"]["openpyxl"] = r = read_speed(path, "openpyxl")
        print(f"read only   openpyxl  {r['rows_per_s']:>9,} rows/s  ({r['rows']} rows in {r['seconds']} s, CPU {r['cpu_seconds']} s)")
    results["guard"] = g = guard_speed(path)
    print(f"guard scan  (check_sheet) {g['seconds']} s, CPU {g['cpu_seconds']} s (at upload, before the timed import: a run reads the stored file by its digest)")
    targets = []
    if not args.no_sqlite:
        targets.append(("sqlite", f"sqlite:///{tempfile.gettempdir()}/canbao_bench_taximport.sqlite3"))
    if not args.no_postgres:
        targets.append(("postgresql", args.postgres))
    for label, url in targets:
        results["import"][label] = _import_runs(label, url, path, args)
    print(f"end: {_load()}")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
