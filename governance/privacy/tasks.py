"""Celery tasks: thin entry points over the privacy services (for Celery beat)."""

from __future__ import annotations

from celery import shared_task

from governance.privacy.services.request_deadlines import (
    access_request_data_purge,
    access_request_reminders_send,
)


@shared_task(acks_late=True)
def access_request_reminders() -> dict[str, int]:
    """Remind the legal role of data access requests due soon or overdue (daily)."""
    result = access_request_reminders_send()
    return {"requests": result.requests, "sent": result.sent}


@shared_task(acks_late=True)
def access_request_data_purge_due() -> dict[str, int]:
    """Delete closed requests' data past the retention period; idempotent."""
    result = access_request_data_purge()
    return {
        "requests": len(result.purged),
        "photos": result.photos,
        "packs": result.packs,
        "problems": len(result.problems),
    }
