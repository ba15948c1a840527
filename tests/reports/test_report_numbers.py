"""Report numbers are never reused (issue 18, item 5): a number a deleted registry row held is
not given to the next report, so two different PDFs never claim one number."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from inventory.services.sources import source_register
from reports.models import Report
from reports.services import report_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(archives: Path, settings):
    """Queue reports without building them: the background start waits for a commit."""
    settings.PROVENA_BACKGROUND_REPORTS = True
    settings.CELERY_BROKER_URL = ""
    folder = archives / "press"
    folder.mkdir()
    source_register(root=folder, department_code="NEWS")
    return lambda: report_build(kind="audit", background=True)


def test_a_deleted_reports_number_is_not_given_to_the_next(queued) -> None:
    year = timezone.localdate().year
    first, second = queued(), queued()
    assert (first.number, second.number) == (f"PR-{year}-0001", f"PR-{year}-0002")

    Report.objects.filter(pk=second.pk).delete()  # as the admin once allowed
    third = queued()

    assert third.number == f"PR-{year}-0003"
    Report.objects.all().delete()
    assert queued().number == f"PR-{year}-0004"


def test_numbers_continue_after_rows_registered_before_the_counter(queued) -> None:
    year = timezone.localdate().year
    Report.objects.create(number=f"PR-{year}-0041", kind=Report.Kind.AUDIT)

    assert queued().number == f"PR-{year}-0042"
