"""python manage.py backup [--output FILE]: every row of the portal to one gzip JSON-lines file.

Portable (SQLite and PostgreSQL alike) and restorable with ``manage.py restore FILE`` into a
database migrated to the same version. Read in one transaction (REPEATABLE READ on PostgreSQL)
so the file is a consistent snapshot; written to a temporary name and renamed at the end, so a
failed backup never leaves a file that looks complete. History tables, the audit log and API
tokens are included; sessions, content types and permissions are not (migrate recreates the
last two; foreign keys to them are written as natural keys).
"""

import gzip
import hashlib
import os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.utils import timezone

EXCLUDED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}


def backup_models():
    """Every concrete model worth keeping, parents before children."""
    app_list = {}
    for config in apps.get_app_configs():
        models = [
            m for m in config.get_models()
            if not m._meta.proxy and m._meta.managed and m._meta.label_lower not in EXCLUDED
        ]
        if models:
            app_list[config] = models
    return serializers.sort_dependencies(app_list.items(), allow_cycles=True)


def write_backup(path: Path, *, using: str = DEFAULT_DB_ALIAS, chunk: int = 2000) -> dict:
    """Write the backup to ``path``; return {model label: rows} (and the file's sha256)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    counts = {}
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:  # inside a caller's transaction, it decides
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            for model in backup_models():
                if not router.allow_migrate_model(using, model):
                    continue
                qs = model._base_manager.using(using).order_by(model._meta.pk.name)
                seen = [0]

                def rows(qs=qs, seen=seen):
                    for obj in qs.iterator(chunk_size=chunk):
                        seen[0] += 1
                        yield obj

                # The serializer walks a generator, so county-size tables are never held in memory.
                serializers.serialize(
                    "jsonl", rows(), stream=out, use_natural_foreign_keys=True, use_natural_primary_keys=False
                )
                counts[model._meta.label] = seen[0]
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    os.replace(tmp, path)
    return {"counts": counts, "sha256": digest, "path": str(path)}


class Command(BaseCommand):
    help = "Back up every row of the portal to a gzip JSON-lines file (restore with `manage.py restore FILE`)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default=None, help="file to write (default backups/canbao-<time>.jsonl.gz)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **opts):
        output = opts["output"] or str(
            Path(settings.BASE_DIR) / "backups" / f"canbao-{timezone.localtime():%Y%m%d-%H%M%S}.jsonl.gz"
        )
        if not output.endswith(".jsonl.gz"):
            output += ".jsonl.gz" if not output.endswith(".gz") else ""
        result = write_backup(Path(output), using=opts["database"])
        total = sum(result["counts"].values())
        self.stdout.write(f"已备份 {total} 行（{len(result['counts'])} 张表）到 {result['path']}")
        self.stdout.write(f"sha256 {result['sha256']}")
