"""Celery tasks: thin entry points over the report services."""

from __future__ import annotations

from celery import shared_task

from reports.models import Report
from reports.services.build import ReportFailed, report_run


@shared_task(acks_late=True)
def report_build(report_id: int) -> str | None:
    """Build a queued report; return its status (a finished report is left as it is)."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return None
    if report.status == Report.Status.FINISHED:
        return report.status
    try:
        return report_run(report=report).status
    except ReportFailed as exc:
        return exc.report.status
