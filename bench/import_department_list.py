#!/usr/bin/env python
"""Benchmark: a department's 50,000-row list (民政 deaths, 职工医保, 在校参保 …) through the one
import flow — preview, then confirm and apply — as the bureau runs it.

    .venv/bin/python bench/import_department_list.py [--rows 50000] [--no-sqlite]
        [--postgres postgres://postgres@127.0.0.1:5432/canbao_bench_deptlist | --no-postgres]

Seeds a fresh database per engine (a temporary SQLite file; a PostgreSQL database dropped and
recreated) with one resident per row plus as many who are not listed, then times, in a child
process per engine (so peak RSS is the import's own): the preview (read, check, judge; nothing
written) and the apply (the same check again, then every change in one transaction). The list
mixes what the importer decides (see ``kind``):

  death, not paid → deceased and out of the base         50 %
  death, paid before cover began → death refund candidate 15 %
  employee-insured, paid → employee refund candidate      10 %
  employee-insured, not paid → excluded                   10 %
  student insured at school, not paid → excluded          10 %
  unknown ID 3 %, name differs 2 % → said row by row, skipped

Goal (MAX_ROWS of a list is 50,000): the whole list previewed and applied in well under a minute
each (≥ 1,000 rows/s), peak RSS < 500 MB.
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
VILLAGES = 400
BENCH_USER = "bench_bureau"
YEAR = date.today().year + 1  # a benefit year whose cover has not begun: refunds are possible
DIED = date.today() - timedelta(days=10)


def kind(i: int) -> str:
    r = i % 100
    if r < 50:
        return "death"
    if r < 65:
        return "death_paid"
    if r < 75:
        return "employee_paid"
    if r < 85:
        return "employee"
    if r < 95:
        return "student"
    if r < 98:
        return "unknown"
    return "name"


PAID = ("death_paid", "employee_paid")
LABELS = {"death": "死亡", "death_paid": "户口注销", "employee_paid": "参加职工医保", "employee": "职工医保",
          "student": "大学生在校参保", "unknown": "死亡", "name": "死亡"}


def generate(path: Path, rows: int) -> None:
    import openpyxl

    from core import idcard

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("减员名单")
    ws.append(["内乡县民政局2024年11月减员名单"])
    ws.append(["序号", "姓名", "身份证号码", "名单类型", "日期"])
    for i, id_number in enumerate(synthetic_ids(COUNTY, rows)):
        k = kind(i)
        name = f"居民{i}" if k != "name" else f"某某{i}"
        if k == "unknown":  # valid, but of a neighbouring county: nobody here
            id_number = idcard.make("411326", date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])), 1)
        on = DIED if k.startswith("death") or k in ("unknown", "name") else None
        ws.append([i + 1, name, id_number, LABELS[k], on])
    wb.save(path)


def child_seed(url: str, rows: int) -> dict:
    fresh_database(url)
    django_for(url)
    from decimal import Decimal

    from django.db import transaction

    from enrollment.models import Enrollment, Household, Person

    t = time.perf_counter()
    _, villages = seed_county(COUNTY, "内乡县", user=BENCH_USER, role="bureau", villages=VILLAGES)
    residents = rows * 2  # the listed and as many who are not
    ids = synthetic_ids(COUNTY, residents)
    batch = 10000
    with transaction.atomic():
        for start in range(0, residents, batch):
            n = min(batch, residents - start)
            hh = Household.objects.bulk_create(
                [Household(village=villages[(start + k) % VILLAGES], number=f"{start + k:07d}") for k in range(n)])
            people = []
            for k, h in enumerate(hh):
                idn = next(ids)
                people.append(Person(id_number=idn, name=f"居民{start + k}", sex="M" if int(idn[16]) % 2 else "F",
                                     birth_date=date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])), household=h))
            people = Person.objects.bulk_create(people)
            enrollments = []
            for k, p in enumerate(people):
                e = Enrollment(person=p, year=YEAR, village_id=p.household.village_id, tier=1)
                if start + k < rows and kind(start + k) in PAID:
                    e.status, e.paid_on = "paid", date.today() - timedelta(days=30)
                    e.standard, e.subsidy, e.amount_due = Decimal("400.00"), Decimal("0.00"), Decimal("400.00")
                    e.benefit_start = date(YEAR, 1, 1)
                enrollments.append(e)
            Enrollment.objects.bulk_create(enrollments)
    if url.startswith("postgres"):
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    return {"seed_seconds": round(time.perf_counter() - t, 1), "residents": residents}


def child_import(url: str, path: str) -> dict:
    django_for(url)
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.imports import flow
    from core.models import User

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="canbao_bench_media_")
    actor = User.objects.get(username=BENCH_USER)
    upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    run = flow.import_upload(actor=actor, kind="departure_list", region=actor.county, year=YEAR, upload=upload,
                             options={"kind": "deceased", "source_list": "bench"})
    t = time.perf_counter()
    run = flow.import_preview(actor=actor, run=run)
    preview = time.perf_counter() - t
    assert flow.import_confirm(actor=actor, run=run), run.status
    t = time.perf_counter()
    run = flow.import_apply(actor=actor, run=run)
    apply = time.perf_counter() - t
    rows = run.total_rows
    return {
        "status": run.status, "rows": rows, "preview_seconds": round(preview, 2), "preview_rows_per_s": round(rows / preview),
        "apply_seconds": round(apply, 2), "apply_rows_per_s": round(rows / apply),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "result": run.result,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 50_000)))
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/canbao_bench_deptlist"))
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        what, url, extra = args.child
        print(json.dumps(child_seed(url, int(extra)) if what == "seed" else child_import(url, extra), ensure_ascii=False))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"department_list_{args.rows}.xlsx"
    generate(path, args.rows)
    targets = []
    if not args.no_sqlite:
        targets.append(("sqlite", f"sqlite:///{tempfile.gettempdir()}/canbao_bench_deptlist.sqlite3"))
    if not args.no_postgres:
        targets.append(("postgresql", args.postgres))
    ok = True
    for label, url in targets:
        if url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        seed = run_child(__file__, "--child", "seed", url, str(args.rows))
        res = run_child(__file__, "--child", "import", url, str(path))
        ok = ok and res["status"] == "applied" and min(res["preview_rows_per_s"], res["apply_rows_per_s"]) >= 1000 and res["peak_rss_mb"] < 500
        print(f"{label:<10} {res['rows']:,} rows: preview {res['preview_rows_per_s']:>7,} rows/s ({res['preview_seconds']} s), "
              f"apply {res['apply_rows_per_s']:>7,} rows/s ({res['apply_seconds']} s), peak RSS {res['peak_rss_mb']} MB "
              f"[{seed['residents']:,} residents seeded in {seed['seed_seconds']} s] {json.dumps(res['result'], ensure_ascii=False)}")
    print(f"goal (preview and apply ≥ 1,000 rows/s, peak RSS < 500 MB): {'met' if ok else 'NOT met'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (figures are wall-clock)")


if __name__ == "__main__":
    main()
