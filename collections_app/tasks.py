from celery import shared_task

from .cash.services import double_limit_record


@shared_task
def check_double_limit() -> dict:
    """Hourly: every collector's unremitted cash against their county's double limit (双限报解).
    Idempotent; takes no arguments; each county's own policy gives the limits."""
    return double_limit_record()


# Tax-office filing import: registered here so the worker (autodiscovering collections_app.tasks) knows it.
from .tax_import.tasks import run_tax_import  # noqa: E402, F401

