"""Walk a scan's source: record what the walk saw and split the files to read into batches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from governance.chunks import chunked
from inventory.models import Copy, Scan, ScanBatch, ScanError, Source
from inventory.services.scan_lifecycle import BrokerUnavailable, SourceUnavailable
from inventory.services.sources import source_root_recheck
from inventory.storage import store_for
from inventory.storage.walk import WalkResult

_CHUNK = 2000  # rows per bulk statement: well under SQLite's variable limit
_BATCHES_PER_TRANSACTION = 500  # batch rows created (and queued) per commit

SCAN_BATCH_TASK = "inventory.tasks.scan_batch"

# Splitting a small scan stops at this many files per batch: each batch is a transaction.
_MIN_SHARED_BATCH = 4


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


def scan_root_check(source: Source, known: dict) -> None:
    """Refuse to go on when the root is unreachable, or empty though it held copies."""
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
    scan_root_check(source, known)
    # The root may have changed, or PROVENA_ALLOWED_ROOTS shrunk, since it was registered.
    source_root_recheck(source=source)
    walk = store_for(source).walk(settings.PROVENA_IMAGE_EXTENSIONS)
    scan_root_check(source, known)  # an unmount during the walk must not look like deletions
    timings["walk_seconds"] = round(time.perf_counter() - started, 3)
    to_examine = _record_walk(scan, source, walk, known)
    del known
    return _create_batches(scan, to_examine, enqueue=enqueue)
