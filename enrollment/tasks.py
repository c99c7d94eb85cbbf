from celery import shared_task
from django.db.models import Count

from core.models import Region

from .models import Enrollment


@shared_task
def roster_counts(village_id: int, year: int) -> dict:
    """Enrollment counts by status for one village and year (used by health checks and reports)."""
    village = Region.objects.get(pk=village_id)
    rows = Enrollment.objects.filter(village=village, year=year).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
