"""Read remediation tasks: visibility, filters, history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.models import User
from governance.remediation.models import RemediationTask, TaskChange
from inventory.selectors.visibility import sources_visible_to

Status = RemediationTask.Status
# Ageing buckets of outstanding work, by days since the decision: (label, first day, last day).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–7 days", 0, 7),
    ("8–30 days", 8, 30),
    ("31–90 days", 31, 90),
    ("over 90 days", 91, None),
)


def tasks_visible_to(*, user: User) -> QuerySet[RemediationTask]:
    """Return the tasks on copies in the sources the user may see."""
    return RemediationTask.objects.filter(
        copy__source__in=sources_visible_to(user=user)
    ).select_related("copy__source", "department", "owner", "waived_by")


def today(now: datetime | None = None) -> date:
    """Return the organisation's date now (PROVENA_TIME_ZONE)."""
    return timezone.localdate(now or timezone.now())


def tasks_overdue(*, tasks: QuerySet[RemediationTask], day: date) -> QuerySet[RemediationTask]:
    """Return the tasks open or in progress past their due date."""
    return tasks.filter(status__in=(Status.OPEN, Status.IN_PROGRESS), due_date__lt=day)


FILTERS = (
    "status",
    "department",
    "source",
    "action",
    "severity",
    "owner",
    "personal_data",
    "decision",
)


def tasks_filtered(
    *, tasks: QuerySet[RemediationTask], params: Mapping[str, str], day: date
) -> QuerySet[RemediationTask]:
    """Return the tasks matching the filters (status also takes "overdue" and "outstanding")."""
    status = params.get("status") or ""
    if status == "overdue":
        tasks = tasks_overdue(tasks=tasks, day=day)
    elif status == "outstanding":
        tasks = tasks.filter(status__in=RemediationTask.OUTSTANDING)
    elif status:
        tasks = tasks.filter(status=status)
    if params.get("department"):
        tasks = tasks.filter(department__code=params["department"])
    if params.get("source"):
        tasks = tasks.filter(copy__source__name=params["source"])
    if params.get("action"):
        tasks = tasks.filter(action=params["action"])
    if params.get("severity"):
        severities = {s.name.lower(): s.value for s in RemediationTask.Severity}
        tasks = tasks.filter(severity=severities.get(params["severity"], 0))
    if params.get("owner"):
        owner = params["owner"]
        tasks = (
            tasks.filter(owner__isnull=True)
            if owner == "-"
            else tasks.filter(owner__username=owner)
        )
    if params.get("personal_data") in ("1", "true", "yes"):
        tasks = tasks.filter(personal_data=True)
    if params.get("decision"):
        tasks = tasks.filter(origin_label=params["decision"])
    return tasks


def task_history(*, task: RemediationTask) -> QuerySet[TaskChange]:
    """Return the task's changes, oldest first."""
    return task.changes.select_related("user").order_by("at", "pk")


def tasks_for_origin(*, origin: models.Model) -> QuerySet[RemediationTask]:
    """Return the tasks a decision created."""
    return RemediationTask.objects.filter(
        origin_type=ContentType.objects.get_for_model(origin), origin_id=origin.pk
    )


def search_text(tasks: QuerySet[RemediationTask], text: str) -> QuerySet[RemediationTask]:
    """Return the tasks whose path or decision contains the text."""
    text = text.strip()
    if not text:
        return tasks
    return tasks.filter(Q(path__icontains=text) | Q(origin_label__icontains=text))
