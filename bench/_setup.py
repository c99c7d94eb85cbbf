"""Shared start of the bench scripts: which database, created if missing, then Django.

Without DATABASE_URL a bench uses its own temporary SQLite file, never the developer's
db.sqlite3. With a PostgreSQL DATABASE_URL whose database does not exist yet, it is created.
"""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(sqlite_name: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/{sqlite_name}.sqlite3"
    os.environ["DATABASE_URL"] = url
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    return url


# --- Child processes of the import benches (one fresh database each) ------------------------------
def django_for(url: str) -> None:
    """Django on ``url`` in a bench's child process."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def fresh_database(url: str) -> None:
    """Drop and recreate a PostgreSQL bench database (a SQLite file is removed by the caller)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(url: str) -> bool:
    """Whether a PostgreSQL database, or a SQLite file, exists."""
    if not url.startswith("postgres"):
        return Path(url.removeprefix("sqlite:///")).exists()
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def copy_database(source: str, target: str) -> None:
    """``target`` made a copy of the seeded ``source`` (PostgreSQL: CREATE DATABASE … TEMPLATE, a
    file-level copy, seconds where seeding takes minutes; SQLite: the file copied)."""
    if not source.startswith("postgres"):
        import shutil

        shutil.copyfile(source.removeprefix("sqlite:///"), target.removeprefix("sqlite:///"))
        return
    import psycopg

    base, name = target.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.rsplit("/", 1)[1]}"')


def seed_county(code: str, name: str, *, user: str, role: str, villages: int = 400, per_township: int = 25):
    """Migrate, then a county of ``villages`` villages (``per_township`` to a township) and its
    ``user``: (county, villages in id order)."""
    from django.core.management import call_command

    from core.models import Region, User

    call_command("migrate", verbosity=0)
    county = Region.objects.create(level="county", code=code, name=name)
    User.objects.create(username=user, role=role, region=county)
    towns = [Region(level="township", code=f"{code}{i:03d}", name=f"第{i}镇", parent=county) for i in range(-(-villages // per_township))]
    Region.objects.bulk_create(towns)
    Region.objects.bulk_create([
        Region(level="village", code=f"{towns[i // per_township].code}{i:03d}", name=f"第{i}村", parent=towns[i // per_township])
        for i in range(villages)
    ])
    return county, list(Region.objects.filter(level="village").order_by("id"))


def run_child(script: str, *args) -> dict:
    """Run ``script`` again as a child (``--child …``) and read the JSON of its last line: each
    database in its own process, so its peak RSS is the import's own."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, cwd=Path(script).resolve().parent.parent)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"child {args[:2]} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def synthetic_ids(county: str, n: int):
    """n distinct valid ID numbers of ``county`` (birth date × sequence), the same every run."""
    from datetime import date, timedelta

    from core import idcard

    start = date(1940, 1, 1)
    for i in range(n):
        yield idcard.make(county, start + timedelta(days=i // 900), i % 900 + 1)
