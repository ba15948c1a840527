"""Import a large catalogue CSV in the background, with progress, as scans and reports run.

The upload page hands a file of more than PROVENA_CATALOGUE_BACKGROUND_ROWS rows to a job:
the file waits under PROVENA_MEDIA_ROOT/catalogue-imports/ and catalogue_import() runs on
Celery when a broker is set, else in a thread of the web process (or inline, with
PROVENA_BACKGROUND_IMPORTS off). The job records its progress and, at the end, the file's
problems and the rows that cannot be applied; the file is deleted once it has run.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, transaction
from django.utils import timezone

from governance.files import write_bytes_atomic
from governance.models import User
from inventory.models import CatalogueImportJob
from inventory.services.catalogue import TooManyRows, catalogue_import

logger = logging.getLogger(__name__)
CATALOGUE_JOB_TASK = "inventory.tasks.catalogue_import_job"
FAILED_ROWS_KEPT = 1000  # rows listed on the job's page; the count says how many in all


def job_file(job: CatalogueImportJob) -> Path:
    """Return where a job's uploaded file waits until the job has run."""
    return settings.PROVENA_MEDIA_ROOT / "catalogue-imports" / f"job-{job.pk}.csv"


@transaction.atomic
def catalogue_job_create(
    *, data: bytes, user: User, name: str, dry_run: bool
) -> CatalogueImportJob:
    """Queue a catalogue import of the uploaded bytes and start it after the commit."""
    if not user.has_perm("inventory.change_asset"):
        raise PermissionDenied("your role may not edit the catalogue")
    job = CatalogueImportJob.objects.create(created_by=user, file_name=name[:255], dry_run=dry_run)
    write_bytes_atomic(job_file(job), data)
    _launch(job)
    return job


def _launch(job: CatalogueImportJob) -> None:
    if settings.CELERY_BROKER_URL:
        transaction.on_commit(lambda: current_app.send_task(CATALOGUE_JOB_TASK, args=(job.pk,)))
    elif settings.PROVENA_BACKGROUND_IMPORTS:
        thread = threading.Thread(
            target=_run_in_thread, args=(job.pk,), name=f"catalogue-{job.pk}", daemon=True
        )
        transaction.on_commit(thread.start)
    else:
        transaction.on_commit(lambda: catalogue_job_run(job_id=job.pk))


def _run_in_thread(job_id: int) -> None:
    try:
        catalogue_job_run(job_id=job_id)
    finally:
        close_old_connections()


def catalogue_job_run(*, job_id: int) -> CatalogueImportJob | None:
    """Run a queued job (a job already run is left as it is); record its outcome."""
    job = CatalogueImportJob.objects.filter(pk=job_id).select_related("created_by").first()
    if job is None or not job.is_active:
        return job
    CatalogueImportJob.objects.filter(pk=job.pk).update(status=CatalogueImportJob.Status.RUNNING)

    def progress(percent: int, step: str) -> None:
        CatalogueImportJob.objects.filter(pk=job.pk).update(progress=percent, step=step)

    path = job_file(job)
    try:
        report = catalogue_import(
            data=path.read_bytes(),
            user=job.created_by,
            dry_run=job.dry_run,
            name=job.file_name,
            max_rows=settings.PROVENA_CATALOGUE_MAX_ROWS,
            progress=progress,
        )
    except (TooManyRows, ValidationError, PermissionDenied, OSError) as exc:
        reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _finish(job, status=CatalogueImportJob.Status.FAILED, error=reason)
    except Exception as exc:
        logger.exception("catalogue import job %s failed", job.pk)
        _finish(job, status=CatalogueImportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        failed = report.failed_rows
        _finish(
            job,
            status=CatalogueImportJob.Status.FINISHED,
            rows=len(report.rows),
            assets_changed=report.assets_changed,
            written=report.written,
            outcome={
                "problems": report.problems,
                "failed_count": len(failed),
                "failed_rows": [plan.describe() for plan in failed[:FAILED_ROWS_KEPT]],
            },
        )
    finally:
        path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _finish(job: CatalogueImportJob, **fields: Any) -> None:
    CatalogueImportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now(), progress=100, step="", **fields
    )
