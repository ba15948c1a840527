"""Start and fail scans: one running scan per source, dead ones interrupted, each audited.

The scan's own errors live here too, so the walk, the examining and the run can raise them.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.models import AuditEvent, User
from governance.version import VERSION
from inventory.models import Scan, Source


class ScanAlreadyRunning(RuntimeError):
    """Another scan of the same source is running."""


class SourceUnavailable(RuntimeError):
    """The source's root cannot be scanned safely (missing, unmounted or unreadable)."""


class ScanStalled(RuntimeError):
    """No batch of a distributed scan finished for too long: no worker is doing the work."""


class BrokerUnavailable(RuntimeError):
    """The Celery broker did not take the scan's batches."""


def default_workers() -> int:
    """Return how many processes examine (this one included): the setting, or one per core."""
    return settings.PROVENA_SCAN_WORKERS or os.cpu_count() or 1


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupt_dead_scans(source: Source) -> None:
    """Mark running scans of the source whose process is gone as interrupted."""
    stale_before = timezone.now() - timedelta(seconds=settings.PROVENA_SCAN_STALE_SECONDS)
    host = socket.gethostname()
    for scan in Scan.objects.filter(source=source, status=Scan.Status.RUNNING):
        same_host_dead = scan.host == host and scan.pid and not _process_alive(scan.pid)
        silent = (scan.heartbeat_at or scan.started_at) < stale_before
        if same_host_dead or silent:
            scan_fail(
                scan=scan,
                reason="the scanning process stopped before it finished",
                status=Scan.Status.INTERRUPTED,
            )


def scan_start(*, source: Source, started_by: User | None, parameters: dict) -> Scan:
    """Create a running scan of the source, refusing if another one is running."""
    _interrupt_dead_scans(source)
    now = timezone.now()
    try:
        with transaction.atomic():
            return Scan.objects.create(
                source=source,
                started_by=started_by,
                heartbeat_at=now,
                host=socket.gethostname(),
                pid=os.getpid(),
                software_version=VERSION,
                parameters=parameters,
            )
    except IntegrityError:
        other = Scan.objects.filter(source=source, status=Scan.Status.RUNNING).first()
        detail = f" (scan {other.pk}, started {other.started_at:%Y-%m-%d %H:%M})" if other else ""
        raise ScanAlreadyRunning(
            f"a scan of source {source.name!r} is already running{detail}; wait for it to finish"
        ) from None


_COUNTERS = (
    "files_seen",
    "bytes_seen",
    "files_to_examine",
    "files_examined",
    "files_new",
    "files_changed",
    "files_unchanged",
    "files_moved",
    "files_missing",
    "files_skipped",
    "errors",
    "duplicate_groups",
    "reclaimable_bytes",
)


def scan_event(scan: Scan, event_type: str, outcome: str, **detail: Any) -> None:
    """Audit the scan with its counters, the software version and any detail."""
    counters = {name: getattr(scan, name) for name in _COUNTERS}
    audit_record(
        event_type=event_type,
        object_type="scan",
        object_id=scan.pk,
        outcome=outcome,
        detail={"source": scan.source.name, "software_version": VERSION, **counters, **detail},
        user=scan.started_by,
        source_id=scan.source_id,
    )


@transaction.atomic
def scan_fail(*, scan: Scan, reason: str, status: str = Scan.Status.FAILED) -> Scan:
    """Mark the running scan as failed (or interrupted) with a reason a person can act on."""
    updated = Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING).update(
        status=status, failure_reason=reason, finished_at=timezone.now()
    )
    scan.refresh_from_db()
    if updated:
        scan_event(
            scan,
            AuditEvent.EventType.SCAN_FAILED,
            AuditEvent.Outcome.FAILURE,
            status=status,
            reason=reason,
        )
    return scan


def scan_parameters(*, workers: int) -> dict:
    """Return the parameters a scan records: how it examines files and where batches run."""
    return {
        "workers": workers,
        "batch_size": settings.PROVENA_SCAN_BATCH_SIZE,
        "max_image_pixels": settings.PROVENA_MAX_IMAGE_PIXELS,
        "extensions": sorted(settings.PROVENA_IMAGE_EXTENSIONS),
        # Where the batches run: "local" (a process pool here) or "celery" (queued).
        "runner": "celery" if settings.CELERY_BROKER_URL else "local",
    }
