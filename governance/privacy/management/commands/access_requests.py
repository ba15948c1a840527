"""manage.py access_requests remind|purge [--dry-run]: the 40-day reminders and the retention
purge of data access requests, for cron."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.privacy.services.request_deadlines import (
    access_request_data_purge,
    access_request_reminders_send,
)


class Command(BaseCommand):
    help = (
        "Remind the legal role of data access requests due soon or overdue (remind), or delete "
        "the reference photos, candidates and response packs of requests closed more than "
        "PROVENA_DSAR_RETENTION_DAYS ago (purge). Run both daily from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("remind", "e-mail the legal role the requests due soon or overdue"),
            ("purge", "delete closed requests' data past the retention period"),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument(
                "--dry-run", action="store_true", help="say what would be done, do nothing"
            )

    def handle(self, *args: Any, **options: Any) -> None:
        dry = options["dry_run"]
        if options["action"] == "remind":
            reminded = access_request_reminders_send(dry_run=dry)
            verb = "would send" if dry else "sent"
            self.stdout.write(
                f"access request reminders: {verb} {reminded.sent} e-mail(s) about "
                f"{reminded.requests} request(s)"
            )
            for reason in reminded.skipped:
                self.stdout.write(f"  skipped: {reason}")
            return
        purged = access_request_data_purge(dry_run=dry)
        verb = "would delete" if dry else "deleted"
        self.stdout.write(
            f"access request data: {verb} the data of {len(purged.purged)} request(s) closed "
            f"more than {settings.PROVENA_DSAR_RETENTION_DAYS} days ago: {purged.photos} "
            f"reference photo(s), {purged.packs} response pack(s), {purged.candidates} "
            "candidate(s)"
        )
        for request, problem in purged.problems:
            self.stdout.write(f"  request {request.pk}: {problem}")
        if any(p.startswith("not deleted") for _, p in purged.problems):
            raise CommandError("some requests' data could not be deleted; see above")
