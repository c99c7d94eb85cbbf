import pytest


@pytest.fixture
def eager_celery():
    """Run .delay() in-process even when REDIS_URL points at a real broker (CI)."""
    from config.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = old
