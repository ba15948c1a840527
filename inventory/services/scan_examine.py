"""Examine a scan's batches: in a local process pool, or one batch on a Celery worker."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context

from django.conf import settings
from django.db.models import F

from inventory.imaging.examine import Examination, examine_batch
from inventory.imaging.thumbnails import MediaWriteFailed
from inventory.models import Scan, ScanBatch
from inventory.services.recording import scan_record_batch
from inventory.services.scan_lifecycle import SourceUnavailable, scan_fail
from inventory.services.scan_paths import thumbnail_dir
from inventory.storage import store_for

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Scan], None]
# A batch taken this often without finishing is taken to crash its worker (a poison file).
MAX_BATCH_ATTEMPTS = 5


def _examine_options(scan: Scan) -> dict:
    return {
        "thumbnail_dir": str(thumbnail_dir()),
        "max_pixels": scan.parameters.get("max_image_pixels", settings.PROVENA_MAX_IMAGE_PIXELS),
        "deadline_seconds": settings.PROVENA_EXAMINE_SECONDS,
    }


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


def examine_batches_here(
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
