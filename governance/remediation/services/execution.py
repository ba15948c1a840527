"""Safe execution: Provena moves removed copies into the quarantine root, after a dry-run plan.
Off unless switched on per source; putting files back and purging them is services/quarantine.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import EventSpec, audit_record, audit_record_many
from governance.audit import format_time as audit_time
from governance.models import AuditEvent, User
from governance.remediation.files import manifest_append
from governance.remediation.models import QuarantineEntry, RemediationTask, SourcePolicy
from governance.remediation.selectors.execution import executable_tasks
from governance.remediation.services.tasks import task_change, task_event
from inventory.models import Copy, Source
from inventory.selectors.visibility import sources_visible_to
from inventory.storage import SourceStore, store_for
from inventory.storage.local import PathOutsideSource
from inventory.storage.moves import MoveRefused

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


def execution_permission_check(user: User, source: Source) -> None:
    """Refuse a user whose role may not move files, or whose department does not hold the source."""
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


def _step_problem(task: RemediationTask, store: SourceStore) -> tuple[str | None, str]:
    """Return (sha256 now, problem) for one task's file."""
    copy = task.copy
    if copy.state != Copy.State.PRESENT:
        return None, f"the copy is {copy.state}; there is nothing to move"
    problem = store.move_problem(copy.path)
    if problem:
        return None, f"{problem}; the next scan records what happened to it"
    if not task.sha256:
        return None, "no SHA-256 was recorded at the decision, so the file cannot be matched"
    try:
        now = store.sha256(copy.path)
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
    store = store_for(source)
    if not plan.problem and not store.is_reachable():
        plan.problem = f"source root {store.local_root} is not reachable (a share not mounted?)"
    tasks = executable_tasks(source_id=source.pk)
    if task_ids is not None:
        tasks = tasks.filter(pk__in=task_ids)
    for task in tasks:
        try:
            path = store.local_path(task.copy.path)
        except PathOutsideSource:
            path = store.local_root  # move_problem refuses the step below
        step = PlanStep(task=task, path=path, destination=_destination(root, source, task))
        step.sha256_now, step.problem = _step_problem(task, store)
        plan.steps.append(step)
    return plan


# --- execution -------------------------------------------------------------------------------


@dataclass(slots=True)
class ExecutionResult:
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    refused: list[tuple[RemediationTask, str]] = field(default_factory=list)


def manifest_line(entry: QuarantineEntry, action: str, user: User | None) -> dict[str, Any]:
    """Return the manifest line that records one move into, out of, or purge from quarantine."""
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
    store = store_for(copy.source)
    # Hash again right before the move: the plan may be minutes old.
    _, problem = _step_problem(task, store)
    if problem:
        raise MoveRefused(problem)
    info = store.stat(copy.path)
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
        after = store.move_to_quarantine(copy.path, destination, sha256=task.sha256)
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
            manifest_append(root, manifest_line(entry, "quarantined", user))
        except BaseException:
            # The record failed: the file goes back where it was, as if nothing happened.
            store.move_from_quarantine(destination, copy.path, sha256=after)
            raise
    return entry


def execution_run(
    *, source: Source, user: User, task_ids: list[int] | None = None
) -> ExecutionResult:
    """Move the files of the source's removal tasks into quarantine, each checked against the
    SHA-256 recorded at the decision; refusals are recorded and reported, not raised."""
    execution_permission_check(user, source)
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
