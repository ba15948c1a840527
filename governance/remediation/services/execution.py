"""Safe execution: Provena moves removed copies into the quarantine root, puts them back on
request, and purges them only after the retention period. Off unless switched on per source."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import EventSpec, audit_record, audit_record_many
from governance.audit import format_time as audit_time
from governance.models import AuditEvent, User
from governance.remediation.files import (
    MoveRefused,
    file_sha256,
    manifest_append,
    move_verified,
    regular_file_problem,
    remove_empty_parents,
)
from governance.remediation.models import QuarantineEntry, RemediationTask, SourcePolicy
from governance.remediation.selectors.execution import executable_tasks
from governance.remediation.services.tasks import task_change, task_event
from inventory.models import Copy, Source
from inventory.selectors.visibility import sources_visible_to
from inventory.storage import store_for

logger = logging.getLogger(__name__)
Status = RemediationTask.Status


def quarantine_root() -> Path:
    """Return the quarantine root: PROVENA_QUARANTINE_ROOT, else PROVENA_MEDIA_ROOT/quarantine."""
    configured = settings.PROVENA_QUARANTINE_ROOT
    root = Path(configured) if configured else Path(settings.PROVENA_MEDIA_ROOT) / "quarantine"
    return root.resolve()


def quarantine_root_problem(*, root: Path | None = None) -> str | None:
    """Return why the quarantine root may not be used (it overlaps a source), or None."""
    root = (root or quarantine_root()).resolve()
    for name, source_root in Source.objects.order_by("name").values_list("name", "root"):
        held = Path(source_root)
        if root == held or root.is_relative_to(held):
            return (
                f"the quarantine root {root} lies inside source {name!r} ({held}): scans "
                "would inventory quarantined files again; set PROVENA_QUARANTINE_ROOT outside "
                "every source"
            )
        if held.is_relative_to(root):
            return (
                f"source {name!r} ({held}) lies inside the quarantine root {root}; set "
                "PROVENA_QUARANTINE_ROOT to a folder that holds no source"
            )
    return None


def execution_enabled(*, source: Source) -> bool:
    """Return whether Provena may carry out removals in the source (off by default)."""
    return SourcePolicy.objects.filter(source=source, execution_enabled=True).exists()


def _may_execute(user: User, source: Source) -> None:
    if not user.has_perm("remediation.execute_remediation"):
        raise PermissionDenied("your role may not move files into or out of quarantine")
    if not sources_visible_to(user=user).filter(pk=source.pk).exists():
        raise PermissionDenied(f"source {source.name} belongs to another department")


@transaction.atomic
def source_policy_set(*, source: Source, enabled: bool, user: User) -> SourcePolicy:
    """Switch execution on or off for a source; switching on checks the quarantine root."""
    if not user.has_perm("remediation.change_sourcepolicy"):
        raise PermissionDenied("your role may not switch execution on or off")
    if enabled:
        problem = quarantine_root_problem()
        if problem:
            raise ValidationError(f"execution stays off for {source.name}: {problem}")
        if not store_for(source).is_reachable():
            raise ValidationError(
                f"execution stays off for {source.name}: its root {source.root} is not a "
                "reachable local folder"
            )
    policy, _ = SourcePolicy.objects.get_or_create(source=source)
    if policy.execution_enabled != enabled:
        policy.execution_enabled = enabled
        policy.changed_by = user
        policy.save()
        audit_record(
            event_type=AuditEvent.EventType.REMEDIATED,
            object_type="source",
            object_id=source.pk,
            detail={"execution_enabled": enabled, "quarantine_root": str(quarantine_root())},
            user=user,
            source_id=source.pk,
        )
    return policy


# --- the plan (a dry run) --------------------------------------------------------------------


@dataclass(slots=True)
class PlanStep:
    """One file the execution would move, or refuse to move and why."""

    task: RemediationTask
    path: Path  # the file in the source
    destination: str  # relative to the quarantine root
    sha256_now: str | None = None
    problem: str = ""


@dataclass(slots=True)
class ExecutionPlan:
    source: Source
    enabled: bool
    root: Path
    problem: str = ""  # why nothing would run
    steps: list[PlanStep] = field(default_factory=list)

    @property
    def runnable(self) -> list[PlanStep]:
        return [] if self.problem else [s for s in self.steps if not s.problem]

    @property
    def refused(self) -> list[PlanStep]:
        return [s for s in self.steps if s.problem]

    @property
    def bytes(self) -> int:
        return sum(s.task.size for s in self.runnable)


def _destination(root: Path, source: Source, task: RemediationTask) -> str:
    """Return a folder-relative destination no earlier quarantine of the task used."""
    base = f"{source.name}/task-{task.pk}"
    attempt, folder = 1, base
    while (root / folder).exists():
        attempt += 1
        folder = f"{base}-{attempt}"
    return f"{folder}/{task.copy.path}"


def _step_problem(task: RemediationTask, path: Path, root: Path) -> tuple[str | None, str]:
    """Return (sha256 now, problem) for one task's file."""
    copy = task.copy
    if copy.state != Copy.State.PRESENT:
        return None, f"the copy is {copy.state}; there is nothing to move"
    problem = regular_file_problem(path, root)
    if problem:
        return None, f"{problem}; the next scan records what happened to it"
    if not task.sha256:
        return None, "no SHA-256 was recorded at the decision, so the file cannot be matched"
    try:
        now = file_sha256(path)
    except (OSError, MoveRefused) as exc:
        return None, f"the file cannot be read: {exc}"
    if now != task.sha256:
        return now, (
            f"the file changed since the decision (SHA-256 now {now[:12]}…, at the decision "
            f"{task.sha256[:12]}…); it is not moved: decide again on what it holds now"
        )
    return now, ""


def execution_plan(*, source: Source, task_ids: list[int] | None = None) -> ExecutionPlan:
    """Return exactly what executing the source's removal tasks would do (reads, moves nothing)."""
    root = quarantine_root()
    plan = ExecutionPlan(source=source, enabled=execution_enabled(source=source), root=root)
    if not plan.enabled:
        plan.problem = (
            f"execution is off for {source.name}; an administrator switches it on, after which "
            "compliance officers may execute"
        )
    else:
        plan.problem = quarantine_root_problem(root=root) or ""
    source_root = store_for(source).local_root
    if not plan.problem and not source_root.is_dir():
        plan.problem = f"source root {source_root} is not reachable (a share not mounted?)"
    tasks = executable_tasks(source_id=source.pk)
    if task_ids is not None:
        tasks = tasks.filter(pk__in=task_ids)
    for task in tasks:
        path = source_root / task.copy.path
        step = PlanStep(task=task, path=path, destination=_destination(root, source, task))
        step.sha256_now, step.problem = _step_problem(task, path, source_root)
        plan.steps.append(step)
    return plan


# --- execution -------------------------------------------------------------------------------


@dataclass(slots=True)
class ExecutionResult:
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    refused: list[tuple[RemediationTask, str]] = field(default_factory=list)


def _manifest_line(entry: QuarantineEntry, action: str, user: User | None) -> dict[str, Any]:
    return {
        "action": action,
        "at": audit_time(timezone.now()),
        "by": user.get_username() if user else "provena",
        "entry": entry.pk,
        "task": entry.task_id,
        "copy": entry.copy_id,
        "source": entry.source.name,
        "source_root": entry.source.root,
        "original_path": entry.original_path,
        "quarantine_path": entry.quarantine_path,
        "sha256": entry.sha256_before,
        "size": entry.size,
        "mtime_ns": entry.mtime_ns,
    }


def _refusal(task: RemediationTask, user: User, problem: str) -> EventSpec:
    return EventSpec(
        event_type=AuditEvent.EventType.QUARANTINED,
        object_type="copy",
        object_id=task.copy_id,
        outcome=AuditEvent.Outcome.FAILURE,
        detail={"task": task.pk, "path": task.copy.path, "refused": problem},
        user=user,
        source_id=task.copy.source_id,
    )


def _quarantine(step: PlanStep, user: User, root: Path) -> QuarantineEntry:
    """Move one file into quarantine and record it: entry, manifest, copy, task, events."""
    task = step.task
    copy = task.copy
    source_root = store_for(copy.source).local_root
    # Hash again right before the move: the plan may be minutes old.
    _, problem = _step_problem(task, step.path, source_root)
    if problem:
        raise MoveRefused(problem)
    info = os.lstat(step.path)
    now = timezone.now()
    destination = root / step.destination
    with transaction.atomic():
        entry = QuarantineEntry.objects.create(
            task=task,
            copy=copy,
            source=copy.source,
            original_path=copy.path,
            quarantine_path=step.destination,
            sha256_before=task.sha256,
            sha256_after="",
            size=info.st_size,
            mtime_ns=info.st_mtime_ns,
            quarantined_at=now,
            quarantined_by=user,
        )
        after = move_verified(step.path, destination, sha256=task.sha256)
        try:
            entry.sha256_after = after
            entry.save(update_fields=["sha256_after"])
            Copy.objects.filter(pk=copy.pk).update(state=Copy.State.QUARANTINED)
            reason = f"quarantined by Provena (entry {entry.pk}); the next scan verifies it"
            change = task_change(task, to_status=Status.DONE, user=user, at=now, reason=reason)
            task.save(update_fields=["status", "status_changed_at"])
            change.save()
            audit_record_many(
                [
                    EventSpec(
                        event_type=AuditEvent.EventType.QUARANTINED,
                        object_type="copy",
                        object_id=copy.pk,
                        detail={
                            "task": task.pk,
                            "entry": entry.pk,
                            "path": copy.path,
                            "quarantine_path": step.destination,
                            "sha256_before": task.sha256,
                            "sha256_after": after,
                            "size": info.st_size,
                        },
                        user=user,
                        source_id=copy.source_id,
                    ),
                    task_event(task, user, {"status": Status.DONE, "quarantine_entry": entry.pk}),
                ]
            )
            manifest_append(root, _manifest_line(entry, "quarantined", user))
        except BaseException:
            # The record failed: the file goes back where it was, as if nothing happened.
            move_verified(destination, step.path, sha256=after)
            raise
    return entry


def execution_run(
    *, source: Source, user: User, task_ids: list[int] | None = None
) -> ExecutionResult:
    """Move the files of the source's removal tasks into quarantine, each checked against the
    SHA-256 recorded at the decision; refusals are recorded and reported, not raised."""
    _may_execute(user, source)
    plan = execution_plan(source=source, task_ids=task_ids)
    if plan.problem:
        raise ValidationError(plan.problem)
    result = ExecutionResult()
    refusals = []
    for step in plan.steps:
        if step.problem:
            result.refused.append((step.task, step.problem))
            refusals.append(_refusal(step.task, user, step.problem))
            continue
        try:
            result.quarantined.append(_quarantine(step, user, plan.root))
        except (MoveRefused, OSError) as exc:
            logger.warning("quarantine of task %s refused: %s", step.task.pk, exc)
            result.refused.append((step.task, str(exc)))
            refusals.append(_refusal(step.task, user, str(exc)))
    audit_record_many(refusals)
    return result


# --- restore and purge -----------------------------------------------------------------------


def quarantine_restore(*, entry: QuarantineEntry, user: User) -> QuarantineEntry:
    """Put a quarantined file back at its original path, byte for byte, and reopen its task.

    Allowed even when execution has since been switched off: it undoes Provena's own move.
    """
    entry = QuarantineEntry.objects.select_related("source", "copy", "task__copy").get(pk=entry.pk)
    _may_execute(user, entry.source)
    if entry.state != QuarantineEntry.State.QUARANTINED:
        raise ValidationError(f"quarantine entry {entry.pk} is {entry.state}; nothing to restore")
    root = quarantine_root()
    source_root = store_for(entry.source).local_root
    if not source_root.is_dir():
        raise ValidationError(f"source root {source_root} is not reachable; nothing was restored")
    original = source_root / entry.original_path
    if os.path.lexists(original):
        raise ValidationError(
            f"something now sits at {entry.source.name}:{entry.original_path}; move it away "
            f"first (the quarantined file stays at {entry.quarantine_path})"
        )
    held = root / entry.quarantine_path
    try:
        now_sha = file_sha256(held)
    except (OSError, MoveRefused) as exc:
        raise ValidationError(f"the quarantined file cannot be read: {exc}") from exc
    if now_sha != entry.sha256_after:
        raise ValidationError(
            f"the quarantined file {entry.quarantine_path} changed (SHA-256 {now_sha[:12]}…, "
            f"recorded {entry.sha256_after[:12]}…); it is not restored"
        )
    now = timezone.now()
    with transaction.atomic():
        after = move_verified(held, original, sha256=entry.sha256_before)
        try:
            os.utime(original, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)
            entry.state = QuarantineEntry.State.RESTORED
            entry.restored_at = now
            entry.restored_by = user
            entry.save(update_fields=["state", "restored_at", "restored_by"])
            Copy.objects.filter(pk=entry.copy_id).update(
                state=Copy.State.PRESENT, missing_since=None, path=entry.original_path
            )
            task = RemediationTask.objects.select_for_update().get(pk=entry.task_id)
            events = [
                EventSpec(
                    event_type=AuditEvent.EventType.RESTORED,
                    object_type="copy",
                    object_id=entry.copy_id,
                    detail={
                        "entry": entry.pk,
                        "task": task.pk,
                        "path": entry.original_path,
                        "quarantine_path": entry.quarantine_path,
                        "sha256": after,
                    },
                    user=user,
                    source_id=entry.source_id,
                )
            ]
            if task.status != Status.OPEN:
                reason = f"the file was restored from quarantine (entry {entry.pk})"
                change = task_change(task, to_status=Status.OPEN, user=user, at=now, reason=reason)
                task.verified_at = None
                task.save(update_fields=["status", "status_changed_at", "verified_at"])
                change.save()
                events.append(task_event(task, user, {"status": Status.OPEN, "restored": entry.pk}))
            audit_record_many(events)
            manifest_append(root, _manifest_line(entry, "restored", user))
        except BaseException:
            move_verified(original, held, sha256=after)
            raise
    return entry


@dataclass(slots=True)
class PurgeResult:
    purged: list[QuarantineEntry] = field(default_factory=list)
    kept: list[tuple[QuarantineEntry, datetime]] = field(default_factory=list)  # until when
    problems: list[tuple[QuarantineEntry, str]] = field(default_factory=list)


def quarantine_purge(
    *, user: User | None, now: datetime | None = None, dry_run: bool = False
) -> PurgeResult:
    """Delete quarantined files older than the retention period (PROVENA_QUARANTINE_RETENTION_
    DAYS); younger ones are kept and listed with the day they become purgeable."""
    if user is not None and not user.has_perm("remediation.execute_remediation"):
        raise PermissionDenied("your role may not purge the quarantine")
    now = now or timezone.now()
    retention = timedelta(days=settings.PROVENA_QUARANTINE_RETENTION_DAYS)
    root = quarantine_root()
    result = PurgeResult()
    entries = QuarantineEntry.objects.filter(state=QuarantineEntry.State.QUARANTINED)
    if user is not None:
        entries = entries.filter(source__in=sources_visible_to(user=user))
    for entry in entries.select_related("source").order_by("quarantined_at", "pk"):
        until = entry.quarantined_at + retention
        if until > now:
            result.kept.append((entry, until))
            continue
        held = root / entry.quarantine_path
        try:
            held_sha = file_sha256(held)
        except (OSError, MoveRefused) as exc:
            result.problems.append((entry, f"the quarantined file cannot be read: {exc}"))
            continue
        if held_sha != entry.sha256_after:
            result.problems.append(
                (entry, f"the quarantined file changed (SHA-256 {held_sha[:12]}…); not purged")
            )
            continue
        if dry_run:
            result.purged.append(entry)
            continue
        with transaction.atomic():
            entry.state = QuarantineEntry.State.PURGED
            entry.purged_at = timezone.now()
            entry.purged_by = user
            entry.save(update_fields=["state", "purged_at", "purged_by"])
            Copy.objects.filter(pk=entry.copy_id, state=Copy.State.QUARANTINED).update(
                state=Copy.State.REMOVED
            )
            audit_record(
                event_type=AuditEvent.EventType.PURGED,
                object_type="copy",
                object_id=entry.copy_id,
                detail={
                    "entry": entry.pk,
                    "task": entry.task_id,
                    "path": entry.original_path,
                    "quarantine_path": entry.quarantine_path,
                    "sha256": held_sha,
                    "quarantined_at": audit_time(entry.quarantined_at),
                    "retention_days": settings.PROVENA_QUARANTINE_RETENTION_DAYS,
                },
                user=user,
                source_id=entry.source_id,
            )
            held.unlink()
            manifest_append(root, _manifest_line(entry, "purged", user))
        remove_empty_parents(held, root)
        result.purged.append(entry)
    return result
