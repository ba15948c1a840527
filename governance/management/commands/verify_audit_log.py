"""manage.py verify_audit_log: walk the hash chain and check it against the latest checkpoint.

Exits non-zero naming the first bad event, or when the log no longer holds what the latest
signed checkpoint recorded (the tail was deleted or rewritten).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit import audit_verify
from governance.audit_checkpoints import CheckpointError, audit_checkpoints_check


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain, name the first event that does not verify, and "
        "check the log against the latest checkpoint in PROVENA_AUDIT_CHECKPOINT_DIR."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"audit log does NOT verify at event {result.first_bad_seq}: {result.reason} "
                f"({result.checked} events before it verified)"
            )
        head = result.head
        assert head is not None  # a chain that verifies has a head (GENESIS when empty)
        self.stdout.write(f"audit log verified: {result.checked} events, head {head.hash}")
        try:
            checked = audit_checkpoints_check(head=head)
        except CheckpointError as exc:
            raise CommandError(f"cannot check the audit checkpoints: {exc}") from exc
        for note in checked.notes:
            self.stdout.write(f"note: {note}")
        if checked.latest is not None and checked.ok:
            latest = checked.latest
            kind = "signed" if latest.signed else "unsigned"
            self.stdout.write(
                f"matches the latest checkpoint ({kind}, written at {latest.written_at}): "
                f"event {latest.seq}; {checked.events_after} events follow it"
            )
        if not checked.ok:
            raise CommandError(
                "audit log does NOT match its checkpoints: " + "; ".join(checked.problems)
            )
