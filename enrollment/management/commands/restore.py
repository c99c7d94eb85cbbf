"""python manage.py restore FILE [--no-input]: replace ALL data with a backup made by ``backup``.

Everything happens in one transaction: the database is emptied (``flush``), the file loaded
(``loaddata``, which also resets PostgreSQL sequences) and the row counts checked against the
file. Any error rolls the whole restore back and the database is left exactly as it was.
The database must be migrated to the same version as the one backed up.
"""

import gzip
import json
from collections import Counter
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, transaction

ERR_NO_FILE = "备份文件不存在：{path}"
ERR_NOT_BACKUP = "这不是 canbao 备份文件（应为 backup 命令生成的 .jsonl.gz）：{detail}"
ERR_COUNTS = "恢复后的行数与备份文件不一致：{detail}"
MSG_CONFIRM = "恢复将删除当前数据库中的全部数据并替换为备份内容。输入 yes 继续："
MSG_CANCELLED = "已取消，数据库未改动。"


def count_rows(path: Path) -> Counter:
    counts = Counter()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    counts[json.loads(line)["model"]] += 1
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise CommandError(ERR_NOT_BACKUP.format(detail=exc)) from None
    return counts


def restore_backup(path: Path, *, using: str = DEFAULT_DB_ALIAS) -> Counter:
    from django.apps import apps

    path = Path(path)
    if not path.exists():
        raise CommandError(ERR_NO_FILE.format(path=path))
    expected = count_rows(path)
    from django.db import connections

    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            # TRUNCATE refuses tables with pending deferred FK checks (rows written earlier in
            # the same transaction): check them now, then defer again for the load.
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        call_command("flush", interactive=False, database=using, verbosity=0)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL DEFERRED")
        if expected:
            call_command("loaddata", str(path), database=using, verbosity=0)
        wrong = {}
        for label, n in expected.items():
            model = apps.get_model(label)
            actual = model._base_manager.using(using).count()
            if actual != n:
                wrong[label] = (n, actual)
        if wrong:
            raise CommandError(ERR_COUNTS.format(detail=wrong))
    return expected


class Command(BaseCommand):
    help = "Replace all data with a backup made by `manage.py backup` (one transaction: all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.exists():
            raise CommandError(ERR_NO_FILE.format(path=path))
        if opts["interactive"] and input(MSG_CONFIRM).strip().lower() != "yes":
            self.stdout.write(MSG_CANCELLED)
            return
        counts = restore_backup(path, using=opts["database"])
        self.stdout.write(f"已从 {path} 恢复 {sum(counts.values())} 行（{len(counts)} 张表）。")
