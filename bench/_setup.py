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
