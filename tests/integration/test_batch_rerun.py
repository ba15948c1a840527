"""Running a scan_batch task twice for one batch changes nothing the second time."""

from __future__ import annotations

import pytest

from governance.audit import audit_head, audit_verify
from inventory.models import Copy, Rendition, Scan, ScanBatch, ScanError
from inventory.services.scan_lifecycle import scan_parameters, scan_start
from inventory.services.scan_walk import scan_prepare
from inventory.services.sources import source_register
from inventory.tasks import scan_batch

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _state(scan: Scan) -> dict:
    return {
        "copies": list(Copy.objects.filter(source=scan.source).order_by("path").values()),
        "renditions": list(Rendition.objects.order_by("pk").values_list("pk", "pixel_hash")),
        "errors": list(ScanError.objects.filter(scan=scan).order_by("pk").values()),
        "audit": audit_head(),
        "scan": Scan.objects.filter(pk=scan.pk).values().get(),
        "batches": list(ScanBatch.objects.filter(scan=scan).values()),
    }


def test_running_a_batch_task_twice_changes_nothing_the_second_time(services, sample_archive):
    source = source_register(root=sample_archive["newsroom"], name="newsroom")
    scan = scan_start(source=source, started_by=None, parameters=scan_parameters(workers=1))
    scan_prepare(scan=scan, timings={})
    first_batch = ScanBatch.objects.get(scan=scan, index=0)
    before = _state(scan)

    recorded = scan_batch(scan.pk, 0)
    after_first = _state(scan)
    again = scan_batch(scan.pk, 0)
    after_second = _state(scan)

    assert recorded == len(first_batch.paths) > 0
    assert after_first != before
    assert again == 0
    assert after_second == after_first
    batch = ScanBatch.objects.get(pk=first_batch.pk)
    assert (batch.status, batch.attempts) == (ScanBatch.Status.DONE, 1)
    assert ScanBatch.objects.filter(scan=scan, status=ScanBatch.Status.PENDING).count() == (
        ScanBatch.objects.filter(scan=scan).count() - 1
    )
    assert audit_verify().ok
