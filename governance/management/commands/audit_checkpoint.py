"""manage.py audit_checkpoint: write a signed checkpoint of the audit chain head to disk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit import audit_verify
from governance.audit_checkpoints import CheckpointError, audit_checkpoint_write, checkpoint_read


class Command(BaseCommand):
    help = (
        "Write a checkpoint of the audit chain head to PROVENA_AUDIT_CHECKPOINT_DIR, signed "
        "with PROVENA_SIGNING_CERT when set; run it from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            # A checkpoint of a broken chain would vouch for the damage.
            raise CommandError(
                f"audit log does NOT verify at event {result.first_bad_seq}: {result.reason}; "
                "no checkpoint written"
            )
        head = result.head
        assert head is not None  # a chain that verifies has a head (GENESIS when empty)
        try:
            path = audit_checkpoint_write(head=head)
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        written = checkpoint_read(path)
        signed = "signed" if not isinstance(written, str) and written.signed else "unsigned"
        self.stdout.write(
            f"checkpoint written ({signed}): event {head.seq}, {head.count} events, "
            f"head {head.hash} -> {path}"
        )
