"""Undo or finish Provena's own quarantine moves: restore a file byte for byte, or purge it
after the retention period. Allowed whether or not execution is still switched on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import EventSpec, audit_record, audit_record_many
from governance.audit import format_time as audit_time
from governance.models import AuditEvent, User
from governance.remediation.files import manifest_append, remove_empty_parents
from governance.remediation.models import QuarantineEntry, RemediationTask
from governance.remediation.services.execution import (
    execution_permission_check,
    manifest_line,
    quarantine_root,
)
from governance.remediation.services.tasks import task_change, task_event
from inventory.models import Copy
from inventory.selectors.visibility import sources_visible_to
from inventory.storage import store_for
from inventory.storage.moves import MoveRefused, file_sha256

Status = RemediationTask.Status


def quarantine_restore(*, entry: QuarantineEntry, user: User) -> QuarantineEntry:
    """Put a quarantined file back at its original path, byte for byte, and reopen its task.

    Allowed even when execution has since been switched off: it undoes Provena's own move.
    """
    entry = QuarantineEntry.objects.select_related("source", "copy", "task__copy").get(pk=entry.pk)
    execution_permission_check(user, entry.source)
    if entry.state != QuarantineEntry.State.QUARANTINED:
        raise ValidationError(f"quarantine entry {entry.pk} is {entry.state}; nothing to restore")
    root = quarantine_root()
    store = store_for(entry.source)
    if not store.is_reachable():
        raise ValidationError(
            f"source root {store.local_root} is not reachable; nothing was restored"
        )
    if store.exists(entry.original_path):
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
        after = store.move_from_quarantine(
            held, entry.original_path, sha256=entry.sha256_before, mtime_ns=entry.mtime_ns
        )
        try:
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
            manifest_append(root, manifest_line(entry, "restored", user))
        except BaseException:
            store.move_to_quarantine(entry.original_path, held, sha256=after)
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
            manifest_append(root, manifest_line(entry, "purged", user))
        remove_empty_parents(held, root)
        result.purged.append(entry)
    return result
