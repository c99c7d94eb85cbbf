"""backup / restore round-trip a seeded database and the uploaded files; a bad file changes nothing."""

import gzip
import io
import json
import tarfile

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from core.localities import load_localities
from core.models import AuditEvent, Region, User
from enrollment import demo_data
from enrollment.models import Enrollment, Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """MEDIA_ROOT in a temporary directory, with one upload (a publicity photo) in it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = settings.MEDIA_ROOT / "publicity" / "2025" / "10" / "张贴.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff photo bytes")
    return photo


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """restore flushes and recreates content types; don't let their cached ids leak to other tests."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


def fingerprint():
    counts = {}
    for config in apps.get_app_configs():
        for model in config.get_models():
            if model._meta.label_lower in ("contenttypes.contenttype", "auth.permission", "sessions.session"):
                continue
            counts[model._meta.label] = model._base_manager.count()
    persons = {
        p.id_number: (p.name, p.birth_date, p.household.number, p.household.village.code, p.is_deceased)
        for p in Person.objects.select_related("household__village").order_by("pk")[:50]
    }
    enrollments = list(
        Enrollment.objects.order_by("pk").values_list("person__id_number", "status", "amount_due", "paid_on", "confirmed_on")[:50]
    )
    users = {u.username: (u.password, u.role, u.region_id) for u in User.objects.all()}
    return counts, persons, enrollments, users


@pytest.fixture
def seeded(users):
    load_localities()
    try:
        from subsidies.policies import load_policies

        load_policies()
    except Exception:  # the policy files are another engineer's work
        pass
    demo_data.seed_county(county=Region.objects.get(code="500240"), residents=300, seed=2)
    # A tracked change (history row), an audit event and an API token.
    p = Person.objects.filter(household__village__parent__parent__code="500240").first()
    p.name = "改名测试"
    p.save()
    from rest_framework.authtoken.models import Token

    Token.objects.create(user=users["clerk"])
    return p


def test_backup_then_restore_round_trips(seeded, media, tmp_path):
    before = fingerprint()
    assert before[0]["enrollment.Person"] >= 300 and before[0]["enrollment.HistoricalPerson"] >= 1
    path = tmp_path / "canbao.tar"
    call_command("backup", output=str(path))
    assert path.exists() and not (tmp_path / "canbao.tar.partial").exists()

    # Wreck the data and the uploads, then restore.
    Enrollment.objects.all().delete()
    AuditEvent.objects.all().delete()
    User.objects.filter(username="clerk").update(role="")
    media.write_bytes(b"overwritten")
    media.with_name("later.jpg").write_bytes(b"uploaded after the backup")
    call_command("restore", str(path), interactive=False)
    ContentType.objects.clear_cache()
    after = fingerprint()
    assert after == before
    assert media.read_bytes() == b"\xff\xd8\xff photo bytes"
    assert media.with_name("later.jpg").exists()  # files not in the backup are left alone
    restored = Person.objects.get(pk=seeded.pk)
    assert restored.name == "改名测试" and restored.history.count() == seeded.history.count()
    # New rows after a restore get fresh primary keys (sequences were reset).
    from tests.factories import PersonFactory

    new = PersonFactory(household=restored.household)
    assert new.pk > max(Person.objects.exclude(pk=new.pk).values_list("pk", flat=True))


def test_backup_is_a_tar_of_gzip_json_lines_and_the_media_tree(seeded, media, tmp_path):
    call_command("backup", output=str(tmp_path / "b"))  # the suffix is added
    with tarfile.open(tmp_path / "b.tar") as tar:
        assert tar.getnames() == ["canbao.jsonl.gz", "media/publicity/2025/10/张贴.jpg"]
        with gzip.open(tar.extractfile("canbao.jsonl.gz"), "rt", encoding="utf-8") as f:
            first = json.loads(f.readline())
    assert {"model", "pk", "fields"} <= set(first)


def test_a_rows_only_backup_still_restores(seeded, media, tmp_path):
    """Backups made before uploads were included: a bare .jsonl.gz, restored without touching media."""
    path = tmp_path / "b.tar"
    call_command("backup", output=str(path))
    old = tmp_path / "old.jsonl.gz"
    with tarfile.open(path) as tar:
        old.write_bytes(tar.extractfile("canbao.jsonl.gz").read())
    before = fingerprint()
    Enrollment.objects.all().delete()
    media.write_bytes(b"kept")
    call_command("restore", str(old), interactive=False)
    ContentType.objects.clear_cache()
    assert fingerprint() == before and media.read_bytes() == b"kept"


def test_an_archive_reaching_outside_media_root_changes_nothing(seeded, media, tmp_path):
    path = tmp_path / "b.tar"
    call_command("backup", output=str(path))
    with tarfile.open(path, "a") as tar:
        evil = tarfile.TarInfo("media/../../escaped.txt")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
    before = fingerprint()
    with pytest.raises(CommandError):
        call_command("restore", str(path), interactive=False)
    ContentType.objects.clear_cache()
    assert fingerprint() == before
    assert not (tmp_path / "escaped.txt").exists()


def test_restore_of_a_bad_file_changes_nothing(seeded, tmp_path):
    before = fingerprint()
    bad = tmp_path / "bad.jsonl.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as f:
        f.write('{"model": "enrollment.person", "pk": 1, "fields": {"name": "x"}}\n')  # missing required fields
    with pytest.raises(Exception):
        call_command("restore", str(bad), interactive=False)
    ContentType.objects.clear_cache()
    assert fingerprint() == before
    not_gzip = tmp_path / "plain.jsonl.gz"
    not_gzip.write_text("hello")
    with pytest.raises(CommandError):
        call_command("restore", str(not_gzip), interactive=False)
    with pytest.raises(CommandError):
        call_command("restore", str(tmp_path / "missing.jsonl.gz"), interactive=False)
    assert fingerprint() == before


def test_restore_asks_before_replacing(seeded, tmp_path, monkeypatch):
    path = tmp_path / "b.tar"
    call_command("backup", output=str(path))
    before = fingerprint()
    monkeypatch.setattr("builtins.input", lambda prompt="": "no")
    Enrollment.objects.all().delete()
    call_command("restore", str(path))
    assert Enrollment.objects.count() == 0  # cancelled: nothing restored, nothing flushed
    assert fingerprint()[0]["enrollment.Person"] == before[0]["enrollment.Person"]
