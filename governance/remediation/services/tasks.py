"""Remediation tasks: created by decisions, moved along by people, verified by evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent, User
from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.policy import due_date_for, severity_for
from governance.remediation.selectors.tasks import tasks_visible_to, today
from governance.roles import is_organisation_wide
from inventory.models import Copy

Status = RemediationTask.Status
Action = RemediationTask.Action
# By the code name ("high"), never the label: labels are translated.
_SEVERITY_BY_NAME = {s.name.lower(): s.value for s in RemediationTask.Severity}
# What a person may move a task to by hand; verified comes from evidence, waived from a waiver.
MANUAL_STEPS: dict[str, tuple[str, ...]] = {
    Status.OPEN: (Status.IN_PROGRESS, Status.DONE),
    Status.IN_PROGRESS: (Status.OPEN, Status.DONE),
    Status.DONE: (Status.OPEN, Status.IN_PROGRESS),
}


@dataclass(frozen=True)
class TaskSpec:
    """One piece of work a decision asks for on one copy."""

    copy: Copy  # inventory.models.Copy
    action: str  # RemediationTask.Action value
    personal_data: bool = False
    note: str = ""


def origin_label(origin: models.Model) -> str:
    """Return a decision's name as tasks show it, e.g. "disposal decision 4 on asset 17"."""
    label = f"{origin._meta.verbose_name} {origin.pk}"
    asset_id = getattr(origin, "asset_id", None)
    if asset_id is not None:
        label += f" on asset {asset_id}"
    return label[:300]


def task_event(
    task: RemediationTask,
    user: User | None,
    detail: dict[str, Any],
    outcome: str = AuditEvent.Outcome.SUCCESS,
    event_type: str = AuditEvent.EventType.REMEDIATED,
) -> EventSpec:
    """Return the audit event for a change to one task (who, which copy, what changed)."""
    return EventSpec(
        event_type=event_type,
        object_type="remediation_task",
        object_id=task.pk,
        outcome=outcome,
        detail={"copy": task.copy_id, "path": task.path, "action": task.action, **detail},
        user=user,
        source_id=task.copy.source_id,
    )


def task_change(
    task: RemediationTask,
    *,
    to_status: str,
    user: User | None,
    at: datetime,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> TaskChange:
    """Move the task to a status (unsaved task fields set) and return its history row."""
    change = TaskChange(
        task=task,
        at=at,
        user=user,
        from_status=task.status,
        to_status=to_status,
        reason=reason,
        detail=detail or {},
    )
    if to_status != task.status:
        task.status = to_status
        task.status_changed_at = at
    return change


@transaction.atomic
def remediation_tasks_create(
    *,
    origin: models.Model,
    plan: list[TaskSpec],
    created_by: User | None,
    supersedes: models.Model | None = None,
) -> list[RemediationTask]:
    """Create one task per (copy, action) of the plan, once per decision; return them in plan
    order. A superseded decision's open and in-progress tasks are waived."""
    origin_type = ContentType.objects.get_for_model(origin)
    label = origin_label(origin)
    now = timezone.now()
    start = today(now)
    due_days = settings.PROVENA_REMEDIATION_DUE_DAYS
    existing = {
        (task.copy_id, task.action): task
        for task in RemediationTask.objects.select_related("copy").filter(
            origin_type=origin_type, origin_id=origin.pk
        )
    }
    copies = {
        c.pk: c
        for c in Copy.objects.select_related("source").filter(pk__in=[s.copy.pk for s in plan])
    }
    tasks: list[RemediationTask] = []
    created: list[RemediationTask] = []
    for spec in plan:
        if spec.action not in Action.values:
            raise ValueError(
                f"unknown remediation action {spec.action!r}; use one of {', '.join(Action.values)}"
            )
        key = (spec.copy.pk, spec.action)
        if key in existing:
            if existing[key] not in tasks:
                tasks.append(existing[key])
            continue
        copy = copies[spec.copy.pk]
        severity = severity_for(personal_data=spec.personal_data, risk_tier=copy.source.risk_tier)
        task = RemediationTask.objects.create(
            origin_type=origin_type,
            origin_id=origin.pk,
            origin_label=label,
            copy=copy,
            action=spec.action,
            personal_data=spec.personal_data,
            severity=_SEVERITY_BY_NAME[severity],
            note=spec.note,
            sha256=copy.sha256,
            size=copy.size,
            path=copy.path,
            department_id=copy.source.department_id,
            due_date=due_date_for(severity=severity, start=start, due_days=due_days),
            status=Status.OPEN,
            status_changed_at=now,
            created_by=created_by,
            created_at=now,
        )
        existing[key] = task
        tasks.append(task)
        created.append(task)
    TaskChange.objects.bulk_create(
        [
            TaskChange(
                task=task,
                at=now,
                user=created_by,
                from_status="",
                to_status=Status.OPEN,
                reason=f"created by {label}",
            )
            for task in created
        ]
    )
    events = [
        task_event(
            task,
            created_by,
            {
                "created_by_decision": label,
                "sha256": task.sha256,
                "severity": task.get_severity_display(),
                "due_date": task.due_date.isoformat(),
                "personal_data": task.personal_data,
            },
        )
        for task in created
    ]
    if supersedes is not None:
        events += _waive_superseded(old=supersedes, new_label=label, user=created_by, now=now)
    audit_record_many(events)
    return tasks


def _waive_superseded(
    *, old: models.Model, new_label: str, user: User | None, now: datetime
) -> list[EventSpec]:
    """Waive the older decision's open and in-progress tasks; return their events."""
    reason = f"superseded by {new_label}"
    stale = list(
        RemediationTask.objects.select_related("copy").filter(
            origin_type=ContentType.objects.get_for_model(old),
            origin_id=old.pk,
            status__in=(Status.OPEN, Status.IN_PROGRESS),
        )
    )
    changes = []
    for task in stale:
        changes.append(task_change(task, to_status=Status.WAIVED, user=user, at=now, reason=reason))
        task.waived_reason = reason
        task.waived_by = user
    RemediationTask.objects.bulk_update(
        stale, ["status", "status_changed_at", "waived_reason", "waived_by"]
    )
    TaskChange.objects.bulk_create(changes)
    return [task_event(task, user, {"status": Status.WAIVED, "reason": reason}) for task in stale]


def _refuse_unless(user: User, permission: str, what: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(f"your role may not {what}")


def _visible(user: User, tasks: list[RemediationTask]) -> None:
    ids = {task.pk for task in tasks}
    seen = set(tasks_visible_to(user=user).filter(pk__in=ids).values_list("pk", flat=True))
    hidden = sorted(ids - seen)
    if hidden:
        raise PermissionDenied(f"task {hidden[0]} is on a source of another department")


@transaction.atomic
def task_status_set(
    *, task: RemediationTask, status: str, user: User, note: str = ""
) -> RemediationTask:
    """Move a task along by hand: open, in progress, done (never verified or waived)."""
    _refuse_unless(user, "remediation.change_remediationtask", "update remediation tasks")
    _visible(user, [task])
    task = (
        RemediationTask.objects.select_for_update().select_related("copy__source").get(pk=task.pk)
    )
    if status == Status.VERIFIED:
        raise ValidationError(
            "a task cannot be marked verified by hand: the next scan or fixity check of "
            f"{task.copy.source.name} verifies it when the copy is gone or changed as decided"
        )
    if status == Status.WAIVED:
        raise ValidationError(
            "waive a task with a reason, through the waive action (managers may waive)"
        )
    if status not in Status.values:
        raise ValidationError(
            f"{status!r} is not a task status; choose one of {', '.join(MANUAL_STEPS)}"
        )
    if task.status in RemediationTask.CLOSED:
        raise ValidationError(f"task {task.pk} is {task.status}: it is closed")
    if status == task.status:
        raise ValidationError(f"task {task.pk} is already {task.get_status_display()}")
    if status not in MANUAL_STEPS[task.status]:
        raise ValidationError(f"task {task.pk} cannot go from {task.status} to {status} by hand")
    now = timezone.now()
    previous = task.status
    change = task_change(task, to_status=status, user=user, at=now, reason=note.strip())
    task.save(update_fields=["status", "status_changed_at"])
    change.save()
    audit_record_many(
        [task_event(task, user, {"status": status, "from": previous, "note": note.strip()})]
    )
    return task


def _owner_fits(owner: User, task: RemediationTask) -> bool:
    return owner.department_id == task.department_id or is_organisation_wide(user=owner)


@transaction.atomic
def tasks_assign(
    *, tasks: list[RemediationTask], owner: User | None, user: User, reason: str = ""
) -> int:
    """Give the tasks an owner (None: nobody); return how many changed."""
    _refuse_unless(user, "remediation.assign_remediationtask", "assign remediation tasks")
    _visible(user, tasks)
    if owner is not None and not owner.is_active:
        raise ValidationError(f"{owner.get_username()} is not an active user")
    changed: list[tuple[RemediationTask, dict]] = []
    for task in tasks:
        if task.status in RemediationTask.CLOSED:
            raise ValidationError(f"task {task.pk} is {task.status}: closed tasks keep their owner")
        if owner is not None and not _owner_fits(owner, task):
            dept = task.department.code if task.department else "no department"
            raise ValidationError(
                f"{owner.get_username()} is not in {dept}, which owns task {task.pk}"
            )
        if task.owner_id == (owner.pk if owner else None):
            continue
        detail = {
            "owner": owner.get_username() if owner else None,
            "previous_owner": task.owner.get_username() if task.owner else None,
        }
        task.owner = owner
        changed.append((task, detail))
    return _record_field_changes(changed, "owner", "assigned", user=user, reason=reason)


def _record_field_changes(
    changed: list[tuple[RemediationTask, dict]], field: str, label: str, *, user: User, reason: str
) -> int:
    """Save one changed field of the tasks with a TaskChange and an audit event for each."""
    now = timezone.now()
    changes = [
        TaskChange(
            task=task,
            at=now,
            user=user,
            from_status=task.status,
            to_status=task.status,
            reason=reason,
            detail=detail,
        )
        for task, detail in changed
    ]
    events = [task_event(task, user, {label: detail, "reason": reason}) for task, detail in changed]
    RemediationTask.objects.bulk_update([task for task, _ in changed], [field])
    TaskChange.objects.bulk_create(changes)
    audit_record_many(events)
    return len(changed)


@transaction.atomic
def tasks_reschedule(
    *, tasks: list[RemediationTask], due_date: date, user: User, reason: str = ""
) -> int:
    """Set the tasks' due date (not in the past); return how many changed."""
    _refuse_unless(user, "remediation.assign_remediationtask", "reschedule remediation tasks")
    _visible(user, tasks)
    if due_date < today():
        raise ValidationError(
            f"due date {due_date.isoformat()} is in the past; choose today or a later day"
        )
    changed: list[tuple[RemediationTask, dict]] = []
    for task in tasks:
        if task.status in RemediationTask.CLOSED:
            raise ValidationError(f"task {task.pk} is {task.status}: closed tasks have no due date")
        if task.due_date == due_date:
            continue
        detail = {"due_date": due_date.isoformat(), "previous_due_date": task.due_date.isoformat()}
        task.due_date = due_date
        changed.append((task, detail))
    return _record_field_changes(changed, "due_date", "rescheduled", user=user, reason=reason)


@transaction.atomic
def tasks_waive(*, tasks: list[RemediationTask], reason: str, user: User) -> int:
    """Close the tasks without the work, with the reason and the approver; return how many."""
    _refuse_unless(user, "remediation.waive_remediationtask", "waive remediation tasks")
    _visible(user, tasks)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("say why the work is waived: a waiver without a reason is refused")
    now = timezone.now()
    changes, events = [], []
    for task in tasks:
        if task.status in RemediationTask.CLOSED:
            raise ValidationError(f"task {task.pk} is already {task.status}")
        changes.append(task_change(task, to_status=Status.WAIVED, user=user, at=now, reason=reason))
        task.waived_reason = reason
        task.waived_by = user
        events.append(task_event(task, user, {"status": Status.WAIVED, "reason": reason}))
    RemediationTask.objects.bulk_update(
        tasks, ["status", "status_changed_at", "waived_reason", "waived_by"]
    )
    TaskChange.objects.bulk_create(changes)
    audit_record_many(events)
    return len(tasks)


BULK_ACTIONS = ("assign", "reschedule", "waive")


def tasks_bulk(
    *,
    action: str,
    tasks: list[RemediationTask],
    user: User,
    owner: str = "",
    due_date: date | None = None,
    reason: str = "",
) -> int:
    """Assign (owner: a user name, '-' for nobody), reschedule or waive the tasks; return how
    many changed. The page and the API both come here."""
    if not tasks:
        raise ValidationError("choose at least one task")
    if action == "assign":
        person = None
        if owner and owner != "-":
            person = User.objects.filter(username=owner).first()
            if person is None:
                raise ValidationError(f"there is no user named {owner!r}")
        elif not owner:
            raise ValidationError("name the owner (a user name, or '-' for nobody)")
        return tasks_assign(tasks=tasks, owner=person, user=user, reason=reason)
    if action == "reschedule":
        if due_date is None:
            raise ValidationError("give the new due date")
        return tasks_reschedule(tasks=tasks, due_date=due_date, user=user, reason=reason)
    if action == "waive":
        return tasks_waive(tasks=tasks, reason=reason, user=user)
    raise ValidationError(f"{action!r} is not a bulk action; use one of {', '.join(BULK_ACTIONS)}")
