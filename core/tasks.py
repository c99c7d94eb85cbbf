"""Celery finds each app's tasks in its ``tasks`` module: core's live with what they run."""

from .imports.tasks import run_import

__all__ = ["run_import"]
