import pytest
from django.conf import settings

from core.choices import Department, Role
from tests.factories import TownshipFactory, UserFactory, VillageFactory


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_worker = pytest.mark.skip(reason="needs REDIS_URL for a real Celery worker")
    for item in items:
        if "postgres" in item.keywords and not settings.IS_POSTGRES:
            item.add_marker(skip_pg)
        if "celery_worker" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_worker)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The `users` fixture makes 9 users per test; PBKDF2 (≈1.5 s a hash on this machine) would
    dominate the whole suite. Tests that check hashing itself can override this."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: API throttles count requests there (per address,
    per user), and one test's requests must not use up the next one's allowance."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process unless the test drives a real worker: with REDIS_URL set (CI) a
    plain ``.delay().get()`` would otherwise wait for a worker that is not there."""
    if "celery_worker_process" in request.fixturenames or request.node.get_closest_marker("celery_worker"):
        yield
        return
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = old


@pytest.fixture
def regions(db):
    """Two townships of one county, two villages in the first, one in the second."""
    t1 = TownshipFactory(name="甲镇")
    county = t1.parent
    t2 = TownshipFactory(name="乙镇", parent=county)
    v1 = VillageFactory(name="甲一村", parent=t1)
    v2 = VillageFactory(name="甲二村", parent=t1)
    v3 = VillageFactory(name="乙一村", parent=t2)
    return {"county": county, "t1": t1, "t2": t2, "v1": v1, "v2": v2, "v3": v3}


@pytest.fixture
def users(regions):
    """One user per role, bound to the first township's side of the county."""
    r = regions
    return {
        "bureau": UserFactory(username="bureau", role=Role.BUREAU, region=r["county"]),
        "tax": UserFactory(username="tax", role=Role.TAX, region=r["county"]),
        "leader": UserFactory(username="leader", role=Role.LEADERSHIP, region=r["county"]),
        "dept": UserFactory(username="dept", role=Role.DEPARTMENT, region=r["county"], department=Department.CIVIL_AFFAIRS),
        "clerk": UserFactory(username="clerk", role=Role.TOWNSHIP, region=r["t1"]),
        "clerk2": UserFactory(username="clerk2", role=Role.TOWNSHIP, region=r["t2"]),
        "collector": UserFactory(username="collector", role=Role.COLLECTOR, region=r["v1"]),
        "collector3": UserFactory(username="collector3", role=Role.COLLECTOR, region=r["v3"]),
        "nobody": UserFactory(username="nobody", role=Role.TOWNSHIP, region=None),
    }


def start_celery_worker(queue: str, *, pool: str = "solo", **env_extra: str):
    """A real `celery worker` subprocess on ``queue`` (``pool``: solo, or prefork with one child),
    talking to Redis and to this test's database (it sees only committed rows: use
    transactional_db). Returns the process."""
    import os
    import subprocess
    import sys

    from django.db import connection

    env = dict(os.environ, CELERY_QUEUE=queue, **env_extra)
    db = connection.settings_dict
    if settings.IS_POSTGRES:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, f"--pool={pool}", "--concurrency=1", "--loglevel=warning", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env,
        cwd=settings.BASE_DIR,
    )


def stop_celery_worker(proc) -> None:
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real worker on its own queue (see start_celery_worker); tasks sent meanwhile go there."""
    import uuid

    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    proc = start_celery_worker(queue)
    old_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = old_queue
        stop_celery_worker(proc)
