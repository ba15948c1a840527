"""Scan a source: walk it, examine new and changed files, record them in batches."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.models import AuditEvent, User
from governance.version import VERSION
from inventory.imaging import Examination, examine_batch
from inventory.models import Copy, Scan, ScanError, Source
from inventory.services.grouping import scan_finish
from inventory.services.recording import scan_record_batch
from inventory.walk import walk_tree

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Scan], None]
_CHUNK = 2000  # rows per bulk statement: well under SQLite's variable limit


class ScanAlreadyRunning(RuntimeError):
    """Another scan of the same source is running."""


class SourceUnavailable(RuntimeError):
    """The source's root cannot be scanned safely (missing, unmounted or unreadable)."""


def thumbnail_dir() -> Path:
    """Return the folder thumbnails are written to, under PROVENA_MEDIA_ROOT."""
    return settings.PROVENA_MEDIA_ROOT / "thumbnails"


def default_workers() -> int:
    """Return the number of examining processes: the setting, or one per core."""
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


def _scan_event(scan: Scan, event_type: str, outcome: str, **detail) -> None:
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
        _scan_event(
            scan,
            AuditEvent.EventType.SCAN_FAILED,
            AuditEvent.Outcome.FAILURE,
            status=status,
            reason=reason,
        )
    return scan


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(paths: list[str], size: int) -> list[list[str]]:
    return [paths[start : start + size] for start in range(0, len(paths), size)]


def _examine_in_pool(
    root: str, batches: list[list[str]], workers: int, options: dict
) -> Iterator[list[Examination]]:
    """Yield examined batches, keeping at most two batches per worker in flight."""
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            yield examine_batch(root, batch, **options)
        return
    # spawn, not fork: the parent may hold database connections and threads.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: set[Future] = set()
        queue = iter(batches)
        for batch in queue:
            pending.add(pool.submit(examine_batch, root, batch, **options))
            if len(pending) >= workers * 2:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        for future in pending:
            yield future.result()


def _unlisted(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def _record_walk(scan: Scan, source: Source, walk, known: dict) -> list[str]:
    """Record walk errors and unchanged files, mark vanished files missing; return paths to read."""
    now = timezone.now()
    to_examine: list[str] = []
    unchanged_ids: list[int] = []
    errors = [ScanError(scan=scan, path=path, error=reason) for path, reason in walk.errors]
    for path, (size, mtime_ns) in walk.files.items():
        row = known.get(path)
        if (
            row
            and row[1] == size
            and row[2] == mtime_ns
            and row[3]
            in (
                Copy.State.PRESENT,
                Copy.State.MISSING,
            )
        ):
            unchanged_ids.append(row[0])
            if row[4]:
                # A known-bad file is not re-read, but every scan lists it again.
                errors.append(ScanError(scan=scan, path=path, error=row[4]))
        else:
            to_examine.append(path)
    vanished = [
        row[0]
        for path, row in known.items()
        if row[3] == Copy.State.PRESENT
        and path not in walk.files
        and not _unlisted(path, walk.unlisted_folders)
    ]
    with transaction.atomic():
        for chunk in _chunks(errors):
            ScanError.objects.bulk_create(chunk)
        for chunk in _chunks(unchanged_ids):
            Copy.objects.filter(pk__in=chunk).update(
                last_seen_scan=scan, last_seen_at=now, state=Copy.State.PRESENT, missing_since=None
            )
        # Marked missing now, so a moved file examined later can take over its row.
        for chunk in _chunks(vanished):
            Copy.objects.filter(pk__in=chunk).update(state=Copy.State.MISSING, missing_since=now)
        Scan.objects.filter(pk=scan.pk).update(
            files_seen=len(walk.files),
            bytes_seen=sum(size for size, _ in walk.files.values()),
            files_to_examine=len(to_examine),
            files_unchanged=len(unchanged_ids),
            files_missing=len(vanished),
            files_skipped=walk.skipped,
            errors=len(errors),
            heartbeat_at=now,
        )
    return to_examine


def _check_root(source: Source, known: dict) -> None:
    root = Path(source.root)
    if not root.is_dir():
        raise SourceUnavailable(
            f"source root {root} is not reachable (deleted, or a share that is not mounted); "
            "the scan stopped and no copy was marked missing"
        )
    present = sum(1 for row in known.values() if row[3] == Copy.State.PRESENT)
    if present and not any(root.iterdir()):
        raise SourceUnavailable(
            f"source root {root} is empty but held {present} present copies at the last scan; "
            "is the share mounted? The scan stopped and no copy was marked missing"
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
    batch_size = settings.PROVENA_SCAN_BATCH_SIZE
    parameters = {
        "workers": workers,
        "batch_size": batch_size,
        "max_image_pixels": settings.PROVENA_MAX_IMAGE_PIXELS,
        "extensions": sorted(settings.PROVENA_IMAGE_EXTENSIONS),
    }
    scan = scan_start(source=source, started_by=started_by, parameters=parameters)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        known = {
            row[1]: (row[0], row[2], row[3], row[4], row[5])
            for row in Copy.objects.filter(source=source)
            .values_list("id", "path", "size", "mtime_ns", "state", "problem")
            .iterator(chunk_size=10_000)
        }
        _check_root(source, known)
        walk = walk_tree(source.root, settings.PROVENA_IMAGE_EXTENSIONS)
        _check_root(source, known)  # an unmount during the walk must not look like deletions
        timings["walk_seconds"] = round(time.perf_counter() - started, 3)
        to_examine = _record_walk(scan, source, walk, known)
        del known
        scan.refresh_from_db()
        if progress:
            progress(scan)
        examine_started = time.perf_counter()
        options = {
            "thumbnail_dir": str(thumbnail_dir()),
            "max_pixels": settings.PROVENA_MAX_IMAGE_PIXELS,
        }
        # Small scans still get a few batches per worker so the pool has work to share.
        effective = max(1, min(batch_size, -(-len(to_examine) // (workers * 4))))
        batches = _batches(sorted(to_examine), effective)
        for examinations in _examine_in_pool(source.root, batches, workers, options):
            scan_record_batch(scan=scan, examinations=examinations)
            if progress:
                scan.refresh_from_db()
                progress(scan)
        timings["examine_seconds"] = round(time.perf_counter() - examine_started, 3)
        _check_root(source, {})
    except SourceUnavailable as exc:
        return scan_fail(scan=scan, reason=str(exc))
    except KeyboardInterrupt:
        scan_fail(scan=scan, reason="stopped by the user", status=Scan.Status.INTERRUPTED)
        raise
    except Exception as exc:
        logger.exception("scan %s of %s failed", scan.pk, source.name)
        scan_fail(scan=scan, reason=f"{type(exc).__name__}: {exc}")
        raise
    scan = scan_finish(scan=scan, timings=timings, started=started)
    _scan_event(scan, AuditEvent.EventType.SCAN_FINISHED, AuditEvent.Outcome.SUCCESS)
    return scan
