"""Verify remediation tasks by evidence: a later scan or fixity check shows the work done."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.audit import audit_record_many
from governance.models import AuditEvent
from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.services.tasks import task_change, task_event
from inventory.models import Copy, Source
from inventory.storage import SourceStore, store_for

Status = RemediationTask.Status
Action = RemediationTask.Action
_GONE = (Copy.State.MISSING, Copy.State.QUARANTINED, Copy.State.REMOVED)
# Actions whose work changes the file in place (its bytes differ afterwards).
_CHANGES = (Action.APPLY_REDACTION, Action.CORRECT_METADATA, Action.REPLACE_WITH_REFERENCE)


@dataclass(slots=True)
class VerifyResult:
    """What checking a source's outstanding tasks against the inventory found."""

    checked: int = 0
    verified: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    skipped: str = ""  # why nothing was checked (the root is unreachable)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts (for a scan's timings)."""
        return {
            "checked": self.checked,
            "verified": len(self.verified),
            "reopened": len(self.reopened),
            "skipped": self.skipped,
        }


def _file_mode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return None


def _evidence(
    task: RemediationTask, store: SourceStore, latest_scan: int | None
) -> tuple[bool, dict[str, Any]]:
    """Return whether the inventory shows the work done as decided, and what it shows."""
    copy = task.copy
    mode = _file_mode(store.local_path(copy.path))
    evidence: dict[str, Any] = {
        "copy_state": copy.state,
        "path": copy.path,
        "last_seen_scan": copy.last_seen_scan_id,
        "latest_scan": latest_scan,
    }
    if copy.fixity_checked_at is not None:
        evidence["fixity_checked_at"] = copy.fixity_checked_at.isoformat()
    # Gone means the inventory lost the copy and nothing sits at its path any more.
    gone = copy.state in _GONE and mode is None
    if gone:
        evidence["finding"] = f"the copy is {copy.state} and nothing is at its path"
        if copy.missing_since is not None:
            evidence["missing_since"] = copy.missing_since.isoformat()
        return True, evidence
    if copy.state != Copy.State.PRESENT:
        evidence["finding"] = f"the copy is {copy.state} but a file is at its path"
        return False, evidence
    if task.action in _CHANGES:
        changed_by_scan = bool(copy.sha256) and copy.sha256 != task.sha256
        changed_by_fixity = (
            copy.fixity_ok is False
            and copy.fixity_checked_at is not None
            and copy.fixity_checked_at >= task.created_at
        )
        if changed_by_scan or changed_by_fixity:
            evidence["finding"] = "the file changed since the decision"
            evidence["sha256"] = copy.sha256
            return True, evidence
        evidence["finding"] = "the file is unchanged since the decision"
        return False, evidence
    if task.action == Action.RESTRICT_ACCESS:
        if mode is not None and not mode & (stat.S_IROTH | stat.S_IWOTH):
            evidence["finding"] = "the file grants no access to others"
            evidence["mode"] = oct(stat.S_IMODE(mode))
            return True, evidence
        evidence["finding"] = "the file is still readable by others"
        return False, evidence
    evidence["finding"] = "the copy is still present at its path"
    return False, evidence


@transaction.atomic
def remediation_tasks_verify(*, source: Source) -> VerifyResult:
    """After a scan or fixity check: verify the source's tasks whose copy is gone or changed as
    decided, and reopen the done ones whose copy is still there."""
    result = VerifyResult()
    tasks = list(
        RemediationTask.objects.filter(copy__source=source, status__in=RemediationTask.OUTSTANDING)
        .select_related("copy")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not tasks:
        return result
    store = store_for(source)
    if not store.is_reachable():
        # An unmounted share shows every file gone; that is no evidence of anything.
        result.skipped = f"source root {store.location} is not reachable; no task was verified"
        return result
    now = timezone.now()
    latest_scan = source.scans.order_by("-started_at", "-pk").values_list("pk", flat=True).first()
    changes, events, saved = [], [], []
    for task in tasks:
        result.checked += 1
        done, evidence = _evidence(task, store, latest_scan)
        if done:
            changes.append(
                task_change(
                    task,
                    to_status=Status.VERIFIED,
                    user=None,
                    at=now,
                    reason=evidence["finding"],
                    detail=evidence,
                )
            )
            task.verified_at = now
            task.evidence = evidence
            saved.append(task)
            result.verified.append(task.pk)
            events.append(task_event(task, None, {"status": Status.VERIFIED, "evidence": evidence}))
        elif task.status == Status.DONE:
            reason = f"reopened: {evidence['finding']}"
            changes.append(
                task_change(
                    task, to_status=Status.OPEN, user=None, at=now, reason=reason, detail=evidence
                )
            )
            task.reopened += 1
            task.evidence = evidence
            saved.append(task)
            result.reopened.append(task.pk)
            events.append(
                task_event(
                    task,
                    None,
                    {"status": Status.OPEN, "reopened": True, "evidence": evidence},
                    outcome=AuditEvent.Outcome.WARNING,
                )
            )
    RemediationTask.objects.bulk_update(
        saved, ["status", "status_changed_at", "verified_at", "evidence", "reopened"]
    )
    TaskChange.objects.bulk_create(changes)
    audit_record_many(events)
    return result
