"""Celery tasks: thin entry points over the scan and fixity services."""

from __future__ import annotations

import logging

from celery import shared_task

from governance.models import User
from inventory.models import Source
from inventory.services.fixity import fixity_check
from inventory.services.scan import ScanAlreadyRunning, scan_run

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def scan_source(source_id: int, user_id: int | None = None) -> int | None:
    """Scan one source; return the scan id (None if another scan was already running)."""
    source = Source.objects.get(pk=source_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return scan_run(source=source, started_by=user).pk
    except ScanAlreadyRunning:
        return None


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
