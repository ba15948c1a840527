"""Scan a source: walk it, examine new and changed files, record them in batches.

One code path, two runners. The walk splits the files to read into ScanBatch rows. Without a
broker (the embedded default) a local process pool examines the batches and this process
records them; with CELERY_BROKER_URL set, one `scan_batch` task per batch is queued and
`celery -A governance worker` processes examine and record them while this process waits,
reporting progress from the database, and closes the scan when every batch is done.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from governance.database import CONNECTION_ERRORS
from governance.models import AuditEvent, User
from inventory.imaging.thumbnails import MediaWriteFailed
from inventory.models import Scan, ScanBatch, Source
from inventory.services.scan_examine import (
    ProgressCallback,
    examine_batches_here,
    media_failure_reason,
)
from inventory.services.scan_finish import scan_finish
from inventory.services.scan_lifecycle import (
    BrokerUnavailable,
    ScanAlreadyRunning,
    ScanStalled,
    SourceUnavailable,
    default_workers,
    scan_event,
    scan_fail,
    scan_parameters,
    scan_start,
)
from inventory.services.scan_walk import scan_prepare, scan_root_check
from inventory.services.sources import SourceRefused

logger = logging.getLogger(__name__)

_POLL_SECONDS = 1.0  # how often a waiting coordinator reads the progress


def _await_batches(scan: Scan, progress: ProgressCallback | None) -> None:
    """Wait until Celery workers have recorded every batch, reporting progress.

    Fails with ScanStalled when no batch is taken or finished for PROVENA_SCAN_STALE_SECONDS
    (plus the broker's visibility timeout while a batch is taken but unfinished, since a
    killed worker's batch is handed out again only after that timeout).
    """
    stale = settings.PROVENA_SCAN_STALE_SECONDS
    total = ScanBatch.objects.filter(scan=scan).count()
    pending = ScanBatch.objects.filter(scan=scan, status=ScanBatch.Status.PENDING)
    last_state: tuple | None = None
    last_change = time.monotonic()
    while True:
        state = pending.aggregate(
            remaining=Count("id"),
            taken=Count("id", filter=Q(attempts__gt=0)),
            attempts=Sum("attempts", default=0),
        )
        Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )
        scan.refresh_from_db()
        if progress:
            progress(scan)
        if scan.status != Scan.Status.RUNNING or not state["remaining"]:
            return
        now = time.monotonic()
        key = (state["remaining"], state["attempts"])
        if key != last_state:
            last_state, last_change = key, now
        limit = stale + (settings.PROVENA_CELERY_VISIBILITY_TIMEOUT if state["taken"] else 0)
        if now - last_change > limit:
            raise ScanStalled(_stalled_reason(scan, total, state, limit))
        time.sleep(_POLL_SECONDS)


def scan_source_run(*, source_id: int, user_id: int | None) -> int | None:
    """Scan a source by id (for a task or a thread); return the scan id, None if one is running."""
    source = Source.objects.get(pk=source_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return scan_run(source=source, started_by=user).pk
    except ScanAlreadyRunning:
        return None


def _stalled_reason(scan: Scan, total: int, state: dict, waited: float) -> str:
    start_workers = (
        "start them with `celery -A governance worker` on machines that see "
        f"{scan.source.root} (at that path) and the database, and scan again"
    )
    if not state["attempts"] and state["remaining"] == total:
        return (
            f"no Celery worker took any of the scan's {total} batches in {waited:.0f} s "
            f"(queue {settings.CELERY_TASK_DEFAULT_QUEUE!r}); are workers running? {start_workers}"
        )
    return (
        f"no batch of the scan finished in {waited:.0f} s ({total - state['remaining']} of "
        f"{total} done); are the Celery workers still running? {start_workers} "
        "(files already recorded are not read again)"
    )


def scan_run(
    *,
    source: Source,
    started_by: User | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Scan:
    """Scan the source incrementally and return the finished (or failed) scan."""
    workers = workers or default_workers()
    scan = scan_start(
        source=source, started_by=started_by, parameters=scan_parameters(workers=workers)
    )
    distributed = scan.parameters["runner"] == "celery"
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        batches = scan_prepare(scan=scan, timings=timings, enqueue=distributed)
        if progress:
            progress(scan)
        examine_started = time.perf_counter()
        if distributed:
            del batches
            _await_batches(scan, progress)
        else:
            examine_batches_here(scan, batches, workers, progress)
        timings["examine_seconds"] = round(time.perf_counter() - examine_started, 3)
        scan.refresh_from_db()
        if scan.status != Scan.Status.RUNNING:
            return scan  # a batch failed it for good, or it was marked interrupted
        scan_root_check(source, {})
    except (SourceUnavailable, SourceRefused, ScanStalled, BrokerUnavailable) as exc:
        return scan_fail(scan=scan, reason=str(exc))
    except MediaWriteFailed as exc:
        # The batch being examined is dropped whole; matching and the face pass do not run.
        logger.error("scan %s of %s stopped: %s", scan.pk, source.name, exc)
        return scan_fail(scan=scan, reason=media_failure_reason(scan=scan, failure=exc))
    except KeyboardInterrupt:
        scan_fail(scan=scan, reason="stopped by the user", status=Scan.Status.INTERRUPTED)
        raise
    except Exception as exc:
        if isinstance(exc, CONNECTION_ERRORS):
            # Not a bug to trace: the database went away or filled its disk. The batch in
            # flight rolled back whole.
            logger.error("scan %s of %s: the database failed: %s", scan.pk, source.name, exc)
        else:
            logger.exception("scan %s of %s failed", scan.pk, source.name)
        try:
            scan_fail(scan=scan, reason=f"{type(exc).__name__}: {exc}")
        except DatabaseError:
            # Nothing can be written now; the next scan of the source finds this process gone
            # and marks the scan interrupted, then carries on where it stopped.
            logger.error("scan %s could not be marked failed; it stays running until then", scan.pk)
        raise
    scan = scan_finish(scan=scan, timings=timings, started=started)
    scan_event(scan, AuditEvent.EventType.SCAN_FINISHED, AuditEvent.Outcome.SUCCESS)
    # The paths are in the inventory now; keep each batch's outcome, not a second copy of them.
    ScanBatch.objects.filter(scan=scan, status=ScanBatch.Status.DONE).update(paths=[])
    return scan
