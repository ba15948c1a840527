"""Scan a source: walk it, examine new and changed files, record them in batches.

One code path, two runners. The walk splits the files to read into ScanBatch rows. Without a
broker (the embedded default) a local process pool examines the batches and this process
records them; with CELERY_BROKER_URL set, one `scan_batch` task per batch is queued and
`celery -A governance worker` processes examine and record them while this process waits,
reporting progress from the database, and closes the scan when every batch is done.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import timedelta
from functools import partial
from multiprocessing import get_context
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from governance.audit import audit_record
from governance.chunks import chunked
from governance.database import CONNECTION_ERRORS
from governance.models import AuditEvent, User
from governance.version import VERSION
from inventory.imaging.examine import Examination, examine_batch
from inventory.imaging.thumbnails import MediaWriteFailed
from inventory.models import Copy, Scan, ScanBatch, ScanError, Source
from inventory.services.recording import scan_record_batch
from inventory.services.scan_finish import scan_finish
from inventory.services.scan_paths import thumbnail_dir
from inventory.services.sources import SourceRefused, source_root_recheck
from inventory.storage import store_for
from inventory.storage.walk import WalkResult

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Scan], None]
_CHUNK = 2000  # rows per bulk statement: well under SQLite's variable limit
_BATCHES_PER_TRANSACTION = 500  # batch rows created (and queued) per commit
_POLL_SECONDS = 1.0  # how often a waiting coordinator reads the progress
# A batch taken this often without finishing is taken to crash its worker (a poison file).
MAX_BATCH_ATTEMPTS = 5

SCAN_BATCH_TASK = "inventory.tasks.scan_batch"


class ScanAlreadyRunning(RuntimeError):
    """Another scan of the same source is running."""


class SourceUnavailable(RuntimeError):
    """The source's root cannot be scanned safely (missing, unmounted or unreadable)."""


class ScanStalled(RuntimeError):
    """No batch of a distributed scan finished for too long: no worker is doing the work."""


class BrokerUnavailable(RuntimeError):
    """The Celery broker did not take the scan's batches."""


# Splitting a small scan stops at this many files per batch: each batch is a transaction.
_MIN_SHARED_BATCH = 4


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


def _scan_event(scan: Scan, event_type: str, outcome: str, **detail: Any) -> None:
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
    for chunk in chunked(items, size):
        yield list(chunk)


def _batches(paths: list[str], size: int) -> list[list[str]]:
    return [list(chunk) for chunk in chunked(paths, size)]


def _unlisted(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def _record_walk(scan: Scan, source: Source, walk: WalkResult, known: dict) -> list[str]:
    """Record walk errors and unchanged files, mark vanished files missing; return paths to read."""
    now = timezone.now()
    to_examine: list[str] = []
    unchanged_ids: list[int] = []
    errors = [ScanError(scan=scan, path=path, error=reason) for path, reason in walk.errors]
    # Files whose picture lost its thumbnail (unreadable at matching, or never written) are
    # read again, so the thumbnail is rewritten and the picture compared.
    rethumb = set(
        Copy.objects.filter(source=source, rendition__thumbnail="").values_list("path", flat=True)
    )
    for path, (size, mtime_ns) in walk.files.items():
        row = known.get(path)
        if (
            path not in rethumb
            and row
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
    store = store_for(source)
    root = store.location
    if not store.is_reachable():
        raise SourceUnavailable(
            f"source root {root} is not reachable (deleted, or a share that is not mounted); "
            "the scan stopped and no copy was marked missing"
        )
    present = sum(1 for row in known.values() if row[3] == Copy.State.PRESENT)
    if present and store.is_empty():
        raise SourceUnavailable(
            f"source root {root} is empty but held {present} present copies at the last scan; "
            "is the share mounted? The scan stopped and no copy was marked missing"
        )


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


def _examine_options(scan: Scan) -> dict:
    return {
        "thumbnail_dir": str(thumbnail_dir()),
        "max_pixels": scan.parameters.get("max_image_pixels", settings.PROVENA_MAX_IMAGE_PIXELS),
        "deadline_seconds": settings.PROVENA_EXAMINE_SECONDS,
    }


def _queue_batches(scan_id: int, indexes: list[int]) -> None:
    # Sent by name: the tasks module is an entry point over this one, never imported by it.
    try:
        with current_app.producer_or_acquire() as producer:
            for index in indexes:
                current_app.send_task(SCAN_BATCH_TASK, args=(scan_id, index), producer=producer)
    except KombuOperationalError as exc:
        raise BrokerUnavailable(
            f"cannot queue the scan's batches on CELERY_BROKER_URL ({str(exc).rstrip('.')}); "
            "is the broker (Redis) running and reachable? Unset CELERY_BROKER_URL to scan in "
            "this process"
        ) from exc


def _create_batches(scan: Scan, paths: list[str], *, enqueue: bool) -> list[tuple[int, list]]:
    """Split the paths into the scan's batches; queue a task per batch once its row commits."""
    workers = scan.parameters.get("workers") or 1
    # Smaller scans still get many batches per worker: when the last batches run, the other
    # workers idle, so a scan's tail is one batch long (with 4 per worker, 500 files on two
    # workers lost an eighth of their time there).
    # (One worker has nobody to share with: it keeps the full size, with fewer commits.)
    size = settings.PROVENA_SCAN_BATCH_SIZE
    if workers > 1:
        size = max(min(_MIN_SHARED_BATCH, size), min(size, -(-len(paths) // (workers * 16))))
    batches = list(enumerate(_batches(sorted(paths), size)))
    for chunk in chunked(batches, _BATCHES_PER_TRANSACTION):
        with transaction.atomic():
            ScanBatch.objects.bulk_create(
                [ScanBatch(scan=scan, index=index, paths=batch) for index, batch in chunk]
            )
            if enqueue:
                transaction.on_commit(partial(_queue_batches, scan.pk, [i for i, _ in chunk]))
    Scan.objects.filter(pk=scan.pk).update(
        parameters={**scan.parameters, "batches": len(batches), "effective_batch_size": size}
    )
    scan.refresh_from_db()
    return batches


def scan_prepare(*, scan: Scan, timings: dict, enqueue: bool = False) -> list[tuple[int, list]]:
    """Walk the scan's source, record what the walk saw and create (and queue) its batches."""
    source = scan.source
    started = time.perf_counter()
    known = {
        row[1]: (row[0], row[2], row[3], row[4], row[5])
        for row in Copy.objects.filter(source=source)
        .values_list("id", "path", "size", "mtime_ns", "state", "problem")
        .iterator(chunk_size=10_000)
    }
    _check_root(source, known)
    # The root may have changed, or PROVENA_ALLOWED_ROOTS shrunk, since it was registered.
    source_root_recheck(source=source)
    walk = store_for(source).walk(settings.PROVENA_IMAGE_EXTENSIONS)
    _check_root(source, known)  # an unmount during the walk must not look like deletions
    timings["walk_seconds"] = round(time.perf_counter() - started, 3)
    to_examine = _record_walk(scan, source, walk, known)
    del known
    return _create_batches(scan, to_examine, enqueue=enqueue)


def media_failure_reason(*, scan: Scan, failure: MediaWriteFailed) -> str:
    """Say that the media root cannot take the scan's thumbnails, how far off, what to do."""
    scan.refresh_from_db(fields=["files_to_examine", "files_examined"])
    left = max(scan.files_to_examine - scan.files_examined, 1)
    # One thumbnail of this size per file still to examine: copies share theirs, so "about".
    needed = failure.needed * left
    return (
        f"media root {failure.problem}: {failure.free:,} bytes free, needs about {needed:,} "
        f"for the thumbnails of {left:,} files still to examine ({failure.folder}). Free space "
        "there or set PROVENA_MEDIA_ROOT to a larger volume, then scan again; files already "
        "recorded are not read again"
    )


def _still_running(scan: Scan) -> bool:
    return Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING).exists()


def _examine_in_pool(
    root: str, batches: list[tuple[int, list]], workers: int, options: dict
) -> Iterator[tuple[int, list[Examination]]]:
    """Yield (batch index, examinations) from `workers` examining processes, this one included.

    This process examines a batch whenever its helpers (workers - 1 spawned processes, each
    kept up to two batches ahead) have nothing finished to hand over, and records what they
    finished in between. So it never sits idle beside busy helpers, and it starts examining
    while they are still starting.
    """
    if workers <= 1 or len(batches) <= 1:
        for index, paths in batches:
            yield index, examine_batch(root, paths, **options)
        return
    queue = list(reversed(batches))  # popped from the end: first batch first
    helpers = workers - 1
    # spawn, not fork: this process may hold database connections and threads.
    with ProcessPoolExecutor(max_workers=helpers, mp_context=get_context("spawn")) as pool:
        pending: dict[Future, int] = {}
        try:
            while queue or pending:
                # Two batches ahead keeps a helper busy; near the end one, so that this process
                # is not left waiting for a helper's queue when nothing is left to share.
                ahead = 2 if len(queue) > helpers * 2 else 1
                while queue and len(pending) < helpers * ahead:
                    index, paths = queue.pop()
                    pending[pool.submit(examine_batch, root, paths, **options)] = index
                finished = [future for future in pending if future.done()]
                if not finished and not queue:
                    finished = list(wait(pending, return_when=FIRST_COMPLETED).done)
                for future in finished:
                    yield pending.pop(future), future.result()
                if queue and not finished:
                    index, paths = queue.pop()
                    yield index, examine_batch(root, paths, **options)
        except BaseException:
            # A full media root (or the user's ^C) stops the scan: start no further batches.
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_batches_here(
    scan: Scan, batches: list[tuple[int, list]], workers: int, progress: ProgressCallback | None
) -> None:
    """Examine the batches in a local process pool and record each as it arrives."""
    for index, examinations in _examine_in_pool(
        str(store_for(scan.source).local_root), batches, workers, _examine_options(scan)
    ):
        recorded = scan_record_batch(scan=scan, batch_index=index, examinations=examinations)
        if not recorded and not _still_running(scan):
            return  # another process marked the scan interrupted: stop reading
        if progress:
            scan.refresh_from_db()
            progress(scan)


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
            _run_batches_here(scan, batches, workers, progress)
        timings["examine_seconds"] = round(time.perf_counter() - examine_started, 3)
        scan.refresh_from_db()
        if scan.status != Scan.Status.RUNNING:
            return scan  # a batch failed it for good, or it was marked interrupted
        _check_root(source, {})
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
    _scan_event(scan, AuditEvent.EventType.SCAN_FINISHED, AuditEvent.Outcome.SUCCESS)
    # The paths are in the inventory now; keep each batch's outcome, not a second copy of them.
    ScanBatch.objects.filter(scan=scan, status=ScanBatch.Status.DONE).update(paths=[])
    return scan


# --- one batch, on a Celery worker -----------------------------------------------------------


def _runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _check_root_here(root: str) -> None:
    """Refuse to examine a batch on a machine where the source's root is absent or empty."""
    try:
        with os.scandir(root) as entries:
            empty = next(entries, None) is None
    except OSError as exc:
        empty, detail = True, exc.strerror
    else:
        detail = "empty"
    if empty:
        raise SourceUnavailable(
            f"source root {root} is not reachable on {socket.gethostname()} ({detail}); mount "
            "the storage read-only at the same path on every worker machine"
        )


def scan_batch_run(*, scan_id: int, batch_index: int) -> int:
    """Examine and record one batch of a scan; return the files recorded (0: nothing to do).

    A batch that is already done, or whose scan is no longer running, is left alone, so a
    retried or redelivered task changes nothing.
    """
    batch = (
        ScanBatch.objects.select_related("scan__source", "scan__started_by")
        .filter(scan_id=scan_id, index=batch_index)
        .first()
    )
    if batch is None or batch.status == ScanBatch.Status.DONE:
        return 0
    scan = batch.scan
    if scan.status != Scan.Status.RUNNING:
        return 0
    if batch.attempts >= MAX_BATCH_ATTEMPTS:
        scan_fail(
            scan=scan,
            reason=f"batch {batch_index} was started {batch.attempts} times and never finished; "
            f"a worker may crash on one of its files ({', '.join(batch.paths[:5])}"
            f"{', ...' if len(batch.paths) > 5 else ''}); last worker {batch.worker}",
        )
        return 0
    ScanBatch.objects.filter(pk=batch.pk).update(attempts=F("attempts") + 1, worker=_runner_name())
    root = str(store_for(scan.source).local_root)
    _check_root_here(root)
    try:
        examinations = examine_batch(root, batch.paths, **_examine_options(scan))
    except MediaWriteFailed as exc:
        # Retrying cannot help until someone frees space: fail the scan now, with the reason.
        logger.error("batch %s of scan %s stopped: %s", batch_index, scan_id, exc)
        scan_fail(scan=scan, reason=media_failure_reason(scan=scan, failure=exc))
        return 0
    _check_root_here(root)  # an unmount while reading must not record the files as unreadable
    if not scan_record_batch(scan=scan, batch_index=batch_index, examinations=examinations):
        return 0
    return len(examinations)


def scan_batch_give_up(*, scan_id: int, batch_index: int, reason: str) -> None:
    """Fail the scan because one of its batches kept failing, saying where and why."""
    scan = Scan.objects.select_related("source", "started_by").filter(pk=scan_id).first()
    if scan is None:
        return
    worker = ScanBatch.objects.filter(scan=scan, index=batch_index).values_list("worker", flat=True)
    scan_fail(
        scan=scan,
        reason=f"batch {batch_index} failed on worker {worker.first() or '?'}: {reason}",
    )
