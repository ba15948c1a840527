"""Celery tasks: thin entry points over the scan, fixity, face and catalogue services."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from inventory.models import Source
from inventory.services.catalogue_jobs import catalogue_job_run
from inventory.services.faces import faces_run
from inventory.services.fixity import fixity_check
from inventory.services.scan import scan_source_run
from inventory.services.scan_examine import scan_batch_give_up, scan_batch_run

logger = logging.getLogger(__name__)
_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def scan_batch(self: Task, scan_id: int, batch_index: int) -> int:
    """Examine and record one batch of a scan; return the files recorded (0: nothing to do).

    Idempotent: a batch already recorded is skipped, so a redelivered or repeated task
    changes nothing. A failing batch is retried; after the last retry the scan fails with
    the reason, so the waiting `manage.py scan` stops and says why.
    """
    try:
        return scan_batch_run(scan_id=scan_id, batch_index=batch_index)
    except Exception as exc:
        if self.request.called_directly:
            raise
        if self.request.retries >= self.max_retries:
            scan_batch_give_up(
                scan_id=scan_id, batch_index=batch_index, reason=f"{type(exc).__name__}: {exc}"
            )
            raise
        logger.warning("batch %s of scan %s failed, retrying: %s", batch_index, scan_id, exc)
        raise self.retry(exc=exc, countdown=_RETRY_SECONDS * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def scan_source(source_id: int, user_id: int | None = None) -> int | None:
    """Scan one source; return the scan id (None if another scan was already running).

    With a broker this process coordinates: it queues the batches and waits for other
    workers to do them, so run it where it does not hold the only worker (the pages start
    scans in a thread of the web process; cron jobs run `manage.py scan`).
    """
    return scan_source_run(source_id=source_id, user_id=user_id)


@shared_task(acks_late=True)
def fixity_check_sources(source_id: int | None = None) -> dict[str, int]:
    """Run the fixity check of one source (or every source, for Celery beat); return counts."""
    source = Source.objects.get(pk=source_id) if source_id is not None else None
    result = fixity_check(source=source)
    if not result.ok:
        logger.error(
            "fixity check: %d copies did not verify, %d source(s) refused: %s",
            len(result.problems),
            len(result.refused),
            "; ".join(
                [*result.refused, *(f"{p.source}:{p.path} {p.kind}" for p in result.problems[:20])]
            ),
        )
    return {
        "checked": result.checked,
        "passed": result.passed,
        "failed": len(result.problems),
        "refused": len(result.refused),
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def face_pass_batch(rendition_ids: list[int]) -> int:
    """Run the face pass over these renditions; return how many were looked at.

    Idempotent: renditions already checked under the current settings are skipped.
    """
    return faces_run(rendition_ids=rendition_ids, detect_only=True).renditions


@shared_task(acks_late=True)
def catalogue_import_job(job_id: int) -> str | None:
    """Run a queued catalogue import; return its status (a job already run is left alone)."""
    job = catalogue_job_run(job_id=job_id)
    return job.status if job else None
