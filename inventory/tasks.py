"""Celery tasks: thin entry points over the scan services."""

from __future__ import annotations

from celery import shared_task

from governance.models import User
from inventory.models import Source
from inventory.services.scan import ScanAlreadyRunning, scan_run


@shared_task(acks_late=True)
def scan_source(source_id: int, user_id: int | None = None) -> int | None:
    """Scan one source; return the scan id (None if another scan was already running)."""
    source = Source.objects.get(pk=source_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return scan_run(source=source, started_by=user).pk
    except ScanAlreadyRunning:
        return None
