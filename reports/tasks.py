"""Celery tasks: thin entry points over the report services."""

from __future__ import annotations

from celery import shared_task

from reports.services.build import report_run_queued


@shared_task(acks_late=True)
def report_build(report_id: int) -> str | None:
    """Build a queued report; return its status (a finished report is left as it is)."""
    return report_run_queued(report_id=report_id)
