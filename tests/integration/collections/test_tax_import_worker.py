"""A real Celery worker (Redis) previews and applies an import; redelivery changes nothing."""

import io

import pytest

from collections_app.models import TaxImport, TaxImportStatus
from collections_app.tax_import import services
from collections_app.tax_import.tasks import run_tax_import
from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment
from tests.integration.collections.test_tax_import_services import filing_rows, policy, world  # noqa: F401
from tests.unit.collections.tax_import_files import workbook_bytes


@pytest.fixture
def worker_media(settings, monkeypatch):
    """The worker subprocess must see the same MEDIA_ROOT as this test (it reads the stored file)."""
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))


@pytest.mark.celery_worker
@pytest.mark.postgres  # the worker subprocess shares the test database only on PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_worker_previews_then_applies_once(worker_media, celery_worker_process, users, regions, world):
    ti = services.tax_import_create(
        actor=users["tax"], county=regions["county"], upload=io.BytesIO(workbook_bytes(filing_rows(world))), name="f.xlsx", year=2025
    )
    q = celery_worker_process
    preview = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": False}, queue=q).get(timeout=60)
    assert preview.get("confirmed") == 6, preview
    assert TaxImport.objects.get(pk=ti.pk).status == TaxImportStatus.PREVIEWED
    result = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk}, queue=q).get(timeout=60)
    assert result["confirmed"] == 6
    assert Enrollment.objects.get(pk=world["pending"].pk).status == EnrollmentStatus.CONFIRMED
    # a redelivered task (acks_late) finds the import applied and does nothing
    again = run_tax_import.apply_async(args=[ti.pk], kwargs={"apply": True, "actor_id": users["tax"].pk}, queue=q).get(timeout=60)
    assert again == result
    ti.file.delete(save=False)
