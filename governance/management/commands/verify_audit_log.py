"""manage.py verify_audit_log: walk the hash chain; exit non-zero naming the first bad event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit import GENESIS_HASH, audit_verify


class Command(BaseCommand):
    help = "Walk the audit log's hash chain and name the first event that does not verify."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"audit log does NOT verify at event {result.first_bad_seq}: {result.reason} "
                f"({result.checked} events before it verified)"
            )
        # A verified log always names its head; only a broken one may not.
        head_hash = result.head.hash if result.head else GENESIS_HASH
        self.stdout.write(f"audit log verified: {result.checked} events, head {head_hash}")
