"""The base class of every Celery task of the project (``config/celery.py``: ``task_cls``).

With CELERY_TASK_ACKS_LATE and CELERY_TASK_REJECT_ON_WORKER_LOST a task whose execution kills its
worker process (a segfault or the OOM killer in the prefork child, ``kill -9``) is delivered
again: that retry is what makes a killed job finish. A job that kills every worker it meets
would be delivered for ever, so each task counts the deliveries that started and never ended,
somewhere that outlives the worker (by default the cache — Redis in production — keyed by the
task id; a task may count elsewhere, see ``collections_app.tax_import.tasks``). A delivery that
finds MAX_DELIVERIES such starts before it runs nothing: it logs, calls ``give_up`` and
returns, so the message is acknowledged.

A task that returns or raises an ordinary exception has ended: that is not a crash, and its
count is cleared. Only the death of the process (or a BaseException escaping the task, which is
a process going down) leaves the count behind. The broker's ``redelivered`` flag is not used:
it says a message came back once, not how many times, and kombu's Redis transport sets it on
any restored message, whoever held it.
"""

from __future__ import annotations

import logging

from celery import Task
from django.core.cache import cache

log = logging.getLogger(__name__)

MAX_DELIVERIES = 2  # the first delivery and one retry
COUNT_TTL = 2 * 24 * 3600  # longer than the broker's visibility timeout times MAX_DELIVERIES
GIVEN_UP = "given_up"


def delivery_key(task_id: str) -> str:
    return f"celery:deliveries:{task_id}"


class CrashGuardedTask(Task):
    """Runs a delivery only if fewer than MAX_DELIVERIES earlier ones died while running."""

    def __call__(self, *args, **kwargs):
        task_id = getattr(self.request, "id", None)
        if not task_id:  # called as a plain function, not delivered by Celery
            return super().__call__(*args, **kwargs)
        started = self.delivery_started(task_id, args, kwargs)
        if started is None:  # the task decided the delivery is not its to count (e.g. stale)
            return super().__call__(*args, **kwargs)
        if started > MAX_DELIVERIES:
            log.error(
                "task %s[%s] given up: %d deliveries started and none ended (each killed its worker)",
                self.name, task_id, started - 1,
            )
            result = self.give_up(task_id, args, kwargs, crashes=started - 1)
            self.delivery_ended(task_id, args, kwargs)
            return result
        try:
            result = super().__call__(*args, **kwargs)
        except Exception:
            self.delivery_ended(task_id, args, kwargs)  # raised: an ordinary failure, not a crash
            raise
        self.delivery_ended(task_id, args, kwargs)
        return result

    # -- where the deliveries are counted (override together) --
    def delivery_started(self, task_id: str, args, kwargs) -> int | None:
        """Count this delivery; return how many have started without ending, this one included."""
        key = delivery_key(task_id)
        cache.add(key, 0, COUNT_TTL)
        return cache.incr(key)

    def delivery_ended(self, task_id: str, args, kwargs) -> None:
        cache.delete(delivery_key(task_id))

    def give_up(self, task_id: str, args, kwargs, *, crashes: int):
        """Record that the job was abandoned (the log line is written already). The return value
        is the task's result."""
        return {"error": GIVEN_UP, "crashes": crashes}
