"""The Celery app. Without REDIS_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task counts the deliveries that killed their worker and gives up after a retry
# (core/task_guard.py): late acknowledgement never turns a crashing job into a loop.
app = Celery("canbao", task_cls="core.task_guard:CrashGuardedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Beat schedule lives in code. Jobs whose time depends on a county's policy
# (daily cut-off, ranking weekday) run often and decide per county whether it is due;
# they are idempotent, so a retry or a second run changes nothing.
app.conf.beat_schedule = {
    "double-limit-check": {
        "task": "collections_app.tasks.check_double_limit",
        "schedule": crontab(minute=0),  # hourly
    },
    "daily-snapshots": {
        "task": "reporting.tasks.run_due_daily_snapshots",
        "schedule": crontab(minute="*/15"),
    },
    "current-figures": {
        "task": "reporting.tasks.refresh_current_figures",
        "schedule": crontab(minute="*"),  # what "每分钟更新" on a county's dashboard promises
    },
    "weekly-rankings": {
        "task": "reporting.tasks.run_due_weekly_rankings",
        "schedule": crontab(minute=30),
    },
}
