"""Every Celery task of the project gives up a job whose deliveries kill their worker, after one retry."""

import logging

import pytest
from django.conf import settings

from collections_app import tasks as collection_tasks
from config.celery import app
from core import task_guard
from core.task_guard import CrashGuardedTask

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """What a delivery whose worker process dies leaves behind, in-process: nothing ends it."""


def our_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_late_acks_redeliver_a_task_whose_worker_died():
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert app.conf.task_reject_on_worker_lost is True


@pytest.mark.parametrize("name", our_tasks())
def test_every_task_is_crash_guarded(name):
    assert isinstance(app.tasks[name], CrashGuardedTask), name


@pytest.fixture
def deliveries(monkeypatch):
    """The hourly double-limit check, its service replaced by one that does what ``calls`` says."""
    calls = []

    def service():
        calls.append(True)
        outcome = behaviour.pop(0) if behaviour else None
        if outcome is not None:
            raise outcome
        return {"ok": len(calls)}

    behaviour: list = []
    monkeypatch.setattr(collection_tasks, "double_limit_record", service)
    return calls, behaviour


def test_a_task_that_kills_its_worker_runs_twice_then_is_given_up(deliveries, caplog):
    calls, behaviour = deliveries
    behaviour[:] = [WorkerDied(), WorkerDied()]
    for _ in range(task_guard.MAX_DELIVERIES):  # the first delivery and the one retry die
        with pytest.raises(WorkerDied):
            collection_tasks.check_double_limit.apply(task_id="killer")
    with caplog.at_level(logging.ERROR, logger="core.task_guard"):
        result = collection_tasks.check_double_limit.apply(task_id="killer")  # redelivered once more
    assert result.get() == {"error": task_guard.GIVEN_UP, "crashes": 2}
    assert len(calls) == 2, "the third delivery must not run the job"
    assert "given up" in caplog.text and "killer" in caplog.text
    # acknowledged and forgotten: a fourth delivery (there is none) would start afresh
    assert collection_tasks.check_double_limit.apply(task_id="killer").get() == {"ok": 3}


def test_a_task_that_merely_raised_is_not_a_crash(deliveries):
    calls, behaviour = deliveries
    behaviour[:] = [RuntimeError("a"), RuntimeError("b"), RuntimeError("c")]
    for _ in range(3):
        with pytest.raises(RuntimeError):
            collection_tasks.check_double_limit.apply(task_id="raiser")
    assert len(calls) == 3
    assert collection_tasks.check_double_limit.apply(task_id="raiser").get() == {"ok": 4}


def test_deliveries_are_counted_per_task_id(deliveries):
    calls, behaviour = deliveries
    behaviour[:] = [WorkerDied(), WorkerDied()]
    for task_id in ("one", "two"):
        with pytest.raises(WorkerDied):
            collection_tasks.check_double_limit.apply(task_id=task_id)
    assert collection_tasks.check_double_limit.apply(task_id="one").get() == {"ok": 3}
    assert collection_tasks.check_double_limit.apply(task_id="two").get() == {"ok": 4}


def test_a_plain_call_is_not_a_delivery(deliveries):
    calls, behaviour = deliveries
    behaviour[:] = [WorkerDied(), WorkerDied(), WorkerDied()]
    for _ in range(3):
        with pytest.raises(WorkerDied):
            collection_tasks.check_double_limit()
    assert len(calls) == 3
