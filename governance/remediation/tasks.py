"""Celery tasks: thin entry points over the remediation services (for Celery beat)."""

from __future__ import annotations

from celery import shared_task

from governance.remediation.services.digest import digest_send
from governance.remediation.services.quarantine import quarantine_purge


@shared_task(acks_late=True)
def remediation_digest_send() -> dict[str, int]:
    """Send the daily digest of overdue tasks."""
    result = digest_send()
    return {"sent": result.sent, "tasks": result.tasks}


@shared_task(acks_late=True)
def quarantine_purge_due() -> dict[str, int]:
    """Purge quarantined files past the retention period; idempotent (purged files stay so)."""
    result = quarantine_purge(user=None)
    return {
        "purged": len(result.purged),
        "kept": len(result.kept),
        "problems": len(result.problems),
    }
