import pytest

from enrollment.tasks import roster_counts
from tests.factories import EnrollmentFactory


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_through_redis(celery_worker_process, regions):
    EnrollmentFactory.create_batch(3, person__household__village=regions["v1"])
    result = roster_counts.apply_async(args=[regions["v1"].pk, 2025], queue=celery_worker_process)
    assert result.get(timeout=60) == {"pending": 3}
