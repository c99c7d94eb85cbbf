"""python manage.py restore FILE [--no-input]: replace ALL data with a backup made by ``backup``,
and put its uploaded files back under MEDIA_ROOT.

The archive is checked before anything changes (a dump inside, nothing but regular files under
``media/``, no path leaving MEDIA_ROOT). Then everything happens in one transaction: the
database is emptied (``flush``), the dump loaded (``loaddata``, which also resets PostgreSQL
sequences), the row counts checked against the dump, and the files written to MEDIA_ROOT
(overwriting files of the same name; files not in the backup are left where they are). Any error
rolls the database back and leaves it exactly as it was. The database must be migrated to the
same version as the one backed up. A rows-only ``.jsonl.gz`` from before uploads were backed
up is still accepted; it leaves MEDIA_ROOT alone.
"""

import gzip
import json
import logging
import re
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction

from .backup import DUMP_NAME, MEDIA_DIR

ERR_NO_FILE = "备份文件不存在：{path}"
ERR_NOT_BACKUP = (
    "这不是 canbao 备份文件，或文件已损坏（应为 backup 命令生成的 .tar，或旧版 .jsonl.gz）。数据库未改动，请检查文件后重试。"
)
ERR_UNSAFE_MEMBER = "备份文件中的“{name}”不能恢复（不是普通文件，或路径越出了上传目录），已拒绝恢复，数据库未改动。"
ERR_BAD_ROW = (
    "备份文件中有无法恢复的数据行（{where}），已全部回滚，数据库未改动。"
    "请确认备份文件完整、来自同一版本的系统（数据库已迁移到相同版本）后重试。"
)
ERR_COUNTS = "恢复后的行数与备份文件不一致：{detail}"
ERR_MEDIA = "上传文件恢复失败（数据库已回滚，未改动）：{detail}"
MSG_CONFIRM = "恢复将删除当前数据库中的全部数据并替换为备份内容。输入 yes 继续："
MSG_CANCELLED = "已取消，数据库未改动。"
WHERE_UNKNOWN = "位置不明"
WHERE_ROW = "{model}，主键 {pk}"

log = logging.getLogger(__name__)
_ROW_IN_ERROR = re.compile(r"\(([\w.]+):pk=([^)]*)\)")


def _where(exc: Exception) -> str:
    """The row a loaddata error names ("(app.model:pk=1)"), in Chinese; the rest goes to the log."""
    m = _ROW_IN_ERROR.search(str(exc))
    return WHERE_ROW.format(model=m.group(1), pk=m.group(2)) if m else WHERE_UNKNOWN


def count_rows(path: Path) -> Counter:
    counts: Counter = Counter()
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                raise ValueError("not a gzip file")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    counts[json.loads(line)["model"]] += 1
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        raise CommandError(ERR_NOT_BACKUP) from None
    return counts


def media_members(tar: tarfile.TarFile, media_root: Path) -> list[tarfile.TarInfo]:
    """The archive's files under ``media/``, renamed relative to MEDIA_ROOT and checked safe."""
    members, has_dump = [], False
    prefix = MEDIA_DIR + "/"
    for member in tar.getmembers():
        if member.name == DUMP_NAME and member.isfile():
            has_dump = True
        elif member.name.startswith(prefix) and member.isfile():
            try:
                members.append(tarfile.data_filter(member.replace(name=member.name[len(prefix):]), str(media_root)))
            except tarfile.FilterError:
                raise CommandError(ERR_UNSAFE_MEMBER.format(name=member.name)) from None
        elif not (member.isdir() and (member.name == MEDIA_DIR or member.name.startswith(prefix))):
            raise CommandError(ERR_UNSAFE_MEMBER.format(name=member.name))
    if not has_dump:
        raise CommandError(ERR_NOT_BACKUP)
    return members


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):  # a truncated .gz: count_rows says what it is
        return False


def restore_backup(path: Path, *, using: str = DEFAULT_DB_ALIAS, media_root=None) -> tuple[Counter, int]:
    """Restore rows and uploads from ``path``; return {model label: rows} and the number of files."""
    path = Path(path)
    if not path.exists():
        raise CommandError(ERR_NO_FILE.format(path=path))
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work:
        if not _is_tar(path):
            return _restore(path, [], None, media_root, using), 0
        try:
            tar = tarfile.open(path)
        except (OSError, tarfile.TarError, EOFError):
            raise CommandError(ERR_NOT_BACKUP) from None
        with tar:
            try:
                media = media_members(tar, media_root)
                tar.extract(DUMP_NAME, work, filter="data")
            except (OSError, tarfile.TarError, EOFError):
                raise CommandError(ERR_NOT_BACKUP) from None
            return _restore(Path(work) / DUMP_NAME, media, tar, media_root, using), len(media)


def _restore(dump: Path, media, tar, media_root: Path, using: str) -> Counter:
    from django.apps import apps
    from django.db import connections

    expected = count_rows(dump)
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
            try:
                call_command("loaddata", str(dump), database=using, verbosity=0)
            except (DeserializationError, DatabaseError, ValidationError, LookupError, ValueError, TypeError) as exc:
                # a row the database or the models refuse: the transaction rolls everything back
                log.warning("restore: loaddata refused %s: %s", dump, exc)
                raise CommandError(ERR_BAD_ROW.format(where=_where(exc))) from None
        wrong = {}
        for label, n in expected.items():
            model = apps.get_model(label)
            actual = model._base_manager.using(using).count()
            if actual != n:
                wrong[label] = (n, actual)
        if wrong:
            raise CommandError(ERR_COUNTS.format(detail=wrong))
        # Last, still inside the transaction: a file that cannot be written rolls the rows back.
        try:
            for member in media:
                tar.extract(member, media_root, filter="data")
        except (OSError, tarfile.TarError) as exc:
            raise CommandError(ERR_MEDIA.format(detail=exc)) from None
    return expected


class Command(BaseCommand):
    help = "Replace all data and put back the uploaded files from a backup made by `manage.py backup`."

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
        counts, media_files = restore_backup(path, using=opts["database"])
        self.stdout.write(f"已从 {path} 恢复 {sum(counts.values())} 行（{len(counts)} 张表）和 {media_files} 个上传文件。")
