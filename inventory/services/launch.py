"""Start a scan from a page or the API without making the request wait for it."""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import close_old_connections, transaction

from governance.models import User
from inventory.models import Scan, Source
from inventory.services.scan import scan_run, scan_source_run
from inventory.services.scan_lifecycle import ScanAlreadyRunning


def _scan_in_thread(source_id: int, user_id: int | None) -> None:
    try:
        scan_source_run(source_id=source_id, user_id=user_id)
    finally:
        close_old_connections()


def scan_launch(*, source: Source, started_by: User | None) -> None:
    """Start a scan in a background thread (or inline) without making the request wait.

    With a broker the thread only coordinates: it walks, queues the batches for the Celery
    workers and closes the scan when they are done, as `manage.py scan` does.
    """
    if Scan.objects.filter(source=source, status=Scan.Status.RUNNING).exists():
        raise ScanAlreadyRunning(f"a scan of source {source.name!r} is already running")
    user_id = started_by.pk if started_by else None
    if settings.CELERY_BROKER_URL or settings.PROVENA_BACKGROUND_SCANS:
        thread = threading.Thread(
            target=_scan_in_thread,
            args=(source.pk, user_id),
            name=f"scan-{source.name}",
            daemon=True,
        )
        transaction.on_commit(thread.start)
    else:
        scan_run(source=source, started_by=started_by)
