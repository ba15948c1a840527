"""Template filters for the remediation pages."""

from __future__ import annotations

from datetime import date

from django import template

from governance.remediation.models import RemediationTask

register = template.Library()


@register.filter
def task_overdue(task: RemediationTask, day: date) -> bool:
    """Return whether the task is open or in progress past its due date."""
    return task.is_overdue(day)


@register.filter
def status_label(value: str) -> str:
    """Return a task status as people read it ("in_progress" -> "in progress")."""
    if value in RemediationTask.Status.values:
        return str(RemediationTask.Status(value).label)
    return value
