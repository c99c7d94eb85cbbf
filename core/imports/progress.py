"""A running import's progress and heartbeat, in the cache, and the one rule that calls a run
interrupted — for every kind of run: the flow's (``ImportRun``) and the tax office's files
(``TaxImport``), each under its own key prefix.

In the cache because a preview rolls its transaction back and an apply's transaction is invisible
to other connections, so the page that polls cannot read it from the run; and a killed worker
cannot write anything at all. A running phase beats at every progress report and, from a thread,
every ``heartbeat_seconds()`` however long a silent phase lasts (the sheet load, the roster read);
a run queued or running whose last beat is older than settings.CANBAO_IMPORT_INTERRUPTED_AFTER
seconds is interrupted: its worker is gone, and its transaction rolled back with its connection.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

TTL = 24 * 3600
EVERY = 500  # rows between two reports of the flow's runs


def interrupted_after() -> float:
    return float(settings.CANBAO_IMPORT_INTERRUPTED_AFTER)


def heartbeat_seconds() -> float:
    """Six beats per threshold: a few missed beats (a busy machine) do not look like a death."""
    return max(0.1, interrupted_after() / 6)


class Tracker:
    """Progress and beats of the runs of one kind, keyed ``{prefix}:{run id}:…``."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def progress_key(self, run_id: int) -> str:
        return f"{self.prefix}:{run_id}:progress"

    def beat_key(self, run_id: int) -> str:
        return f"{self.prefix}:{run_id}:beat"

    def set(self, run_id: int, **progress) -> None:
        """What a running phase did last, and when (``at``: seconds since the epoch); also a beat."""
        now = time.time()
        cache.set_many({self.progress_key(run_id): {**progress, "at": now}, self.beat_key(run_id): now}, TTL)

    def get(self, run_id: int) -> dict | None:
        return cache.get(self.progress_key(run_id))

    def clear(self, run_id: int) -> None:
        cache.delete(self.progress_key(run_id))

    def beat(self, run_id: int) -> None:
        cache.set(self.beat_key(run_id), time.time(), TTL)

    @contextmanager
    def heartbeat(self, run_id: int):
        """Beat from a thread while the block runs."""
        stop = threading.Event()

        def run():
            while not stop.wait(heartbeat_seconds()):
                self.beat(run_id)

        thread = threading.Thread(target=run, name=f"{self.prefix}-{run_id}-heartbeat", daemon=True)
        self.beat(run_id)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def interrupted(self, run_id: int, *, since: datetime, now: float | None = None) -> bool:
        """No beat of a run said to be queued or running for ``interrupted_after()`` seconds (none
        known — the cache was emptied: since ``since``, its upload)."""
        last = cache.get(self.beat_key(run_id)) or since.timestamp()
        return (now if now is not None else time.time()) - last > interrupted_after()


RUNS = Tracker("importrun")


def reporter(run_id: int, phase: str):
    """A ``Progress`` callback for one phase ("preview" or "apply") of a flow's run."""

    def report(done: int, total: int) -> None:
        if done == total or done % EVERY == 0:
            RUNS.set(run_id, phase=phase, done=done, total=total)

    return report


def get(run_id: int) -> dict | None:
    return RUNS.get(run_id)


def clear(run_id: int) -> None:
    RUNS.clear(run_id)
