"""A running import's progress, in the cache: a preview rolls its transaction back and an apply's
transaction is invisible to other connections, so the page that polls cannot read it from the run."""

from __future__ import annotations

from django.core.cache import cache

TTL = 24 * 3600
EVERY = 500  # rows between two reports


def key(run_id: int) -> str:
    return f"importrun:{run_id}:progress"


def reporter(run_id: int, phase: str):
    """A ``Progress`` callback for one phase ("preview" or "apply") of a run."""

    def report(done: int, total: int) -> None:
        if done == total or done % EVERY == 0:
            cache.set(key(run_id), {"phase": phase, "done": done, "total": total}, TTL)

    return report


def get(run_id: int) -> dict | None:
    return cache.get(key(run_id))


def clear(run_id: int) -> None:
    cache.delete(key(run_id))
