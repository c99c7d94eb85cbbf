"""python manage.py backup [--output FILE]: every row of the portal and every uploaded file, in one
tar archive.

The archive holds ``canbao.jsonl.gz`` (every row, gzip JSON lines) and ``media/…`` (the tree under
MEDIA_ROOT: publicity photos, refund evidence, stored import files). Portable (SQLite and
PostgreSQL alike) and restorable with ``manage.py restore FILE`` into a database migrated to the
same version. Rows are read in one transaction (REPEATABLE READ on PostgreSQL) so the dump is a
consistent snapshot; the uploads are copied after it, so every file a row names is there (uploads
are saved before their row). The archive is written to a temporary name and renamed at the end,
so a failed backup never leaves a file that looks complete. History tables, the audit log and
API tokens are included; sessions, content types and permissions are not (migrate recreates the
last two; foreign keys to them are written as natural keys).
"""

import gzip
import hashlib
import os
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.utils import timezone

EXCLUDED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
DUMP_NAME = "canbao.jsonl.gz"  # the rows, inside the archive
MEDIA_DIR = "media"  # MEDIA_ROOT's tree, inside the archive
SUFFIX = ".tar"


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


def write_dump(path: Path, *, using: str = DEFAULT_DB_ALIAS, chunk: int = 2000) -> dict:
    """Write every row to ``path`` (gzip JSON lines); return {model label: rows}."""
    counts = {}
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:  # inside a caller's transaction, it decides
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with gzip.open(path, "wt", encoding="utf-8") as out:
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
    return counts


def add_media(tar: tarfile.TarFile, media_root: Path, *, skip: set[Path]) -> int:
    """Add every regular file under ``media_root`` as ``media/<relative path>``; return how many."""
    added = 0
    if not media_root.is_dir():
        return added
    for folder, dirs, files in os.walk(media_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file() or path.resolve() in skip:
                continue
            try:
                tar.add(path, arcname=f"{MEDIA_DIR}/{path.relative_to(media_root).as_posix()}", recursive=False)
            except FileNotFoundError:  # deleted while we walked: its row is gone too
                continue
            added += 1
    return added


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_backup(path: Path, *, using: str = DEFAULT_DB_ALIAS, chunk: int = 2000, media_root=None) -> dict:
    """Write the archive to ``path``; return the row counts, the number of media files, the sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    tmp = path.with_name(path.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(dir=path.parent) as work:
            dump = Path(work) / DUMP_NAME
            counts = write_dump(dump, using=using, chunk=chunk)
            with tarfile.open(tmp, "w") as tar:
                tar.add(dump, arcname=DUMP_NAME)
                # A backup written inside MEDIA_ROOT must not swallow itself.
                skip = {tmp.resolve(), path.resolve()}
                media_files = add_media(tar, media_root, skip=skip)
        digest = sha256_of(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return {"counts": counts, "media_files": media_files, "sha256": digest, "path": str(path)}


class Command(BaseCommand):
    help = "Back up every row and every uploaded file to one tar archive (restore with `manage.py restore FILE`)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default=None, help=f"file to write (default backups/canbao-<time>{SUFFIX})")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **opts):
        output = opts["output"] or str(Path(settings.BASE_DIR) / "backups" / f"canbao-{timezone.localtime():%Y%m%d-%H%M%S}")
        if not output.endswith(SUFFIX):
            output += SUFFIX
        result = write_backup(Path(output), using=opts["database"])
        total = sum(result["counts"].values())
        self.stdout.write(
            f"已备份 {total} 行（{len(result['counts'])} 张表）和 {result['media_files']} 个上传文件到 {result['path']}"
        )
        self.stdout.write(f"sha256 {result['sha256']}")
