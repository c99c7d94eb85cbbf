from datetime import date

import pytest

from enrollment.choices import EnrollmentStatus as S
from reporting.models import ProgressSnapshot
from reporting.tasks import take_daily_snapshot
from tests.factories import EnrollmentFactory
from tests.factories.reporting import ReportingPolicyFactory


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_daily_snapshot_runs_in_a_real_worker(celery_worker_process, regions):
    ReportingPolicyFactory(county=regions["county"])
    EnrollmentFactory.create_batch(2, person__household__village=regions["v1"], status=S.CONFIRMED, confirmed_on=date(2024, 10, 2))
    result = take_daily_snapshot.apply_async(args=[regions["county"].pk, "2024-10-08"], queue=celery_worker_process)
    assert result.get(timeout=90)["rows"] == 6
    assert ProgressSnapshot.objects.get(region=regions["county"], date=date(2024, 10, 8)).confirmed == 2
