"""manage.py send_remediation_digest [--dry-run]: e-mail each owner their overdue tasks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from governance.remediation.services.digest import digest_send


class Command(BaseCommand):
    help = "E-mail each owner (or the department's managers) their overdue remediation tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count the e-mails, send nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = digest_send(dry_run=options["dry_run"])
        verb = "would send" if options["dry_run"] else "sent"
        self.stdout.write(
            f"remediation digest: {verb} {result.sent} e-mail(s) about {result.tasks} overdue "
            "task(s)"
        )
        for reason in result.skipped:
            self.stdout.write(f"  skipped: {reason}")
