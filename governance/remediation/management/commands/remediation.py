"""manage.py remediation plan|execute|restore|purge|enable|disable: safe execution from a shell.

remediation plan --source NAME                      the dry run: what would move, or why not
remediation execute --source NAME --user NAME       move the planned files into quarantine
remediation restore ENTRY --user NAME               put a quarantined file back
remediation purge [--dry-run] [--user NAME]         delete quarantined files past retention
remediation enable|disable --source NAME --user NAME
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import User
from governance.remediation.models import QuarantineEntry
from governance.remediation.services.execution import (
    execution_plan,
    execution_run,
    source_policy_set,
)
from governance.remediation.services.quarantine import quarantine_purge, quarantine_restore
from inventory.models import Source


class Command(BaseCommand):
    help = "Plan, execute, restore and purge remediation in the quarantine root."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        plan = commands.add_parser("plan", help="show the dry run for a source")
        plan.add_argument("--source", required=True)
        execute = commands.add_parser("execute", help="move a source's planned files")
        execute.add_argument("--source", required=True)
        execute.add_argument("--user", required=True, help="who executes (needs the permission)")
        execute.add_argument("--task", type=int, action="append", help="only these tasks")
        restore = commands.add_parser("restore", help="put a quarantined file back")
        restore.add_argument("entry", type=int)
        restore.add_argument("--user", required=True)
        purge = commands.add_parser("purge", help="delete quarantined files past retention")
        purge.add_argument("--dry-run", action="store_true")
        purge.add_argument("--user", help="who purges (default: Provena itself, as from cron)")
        for name in ("enable", "disable"):
            switch = commands.add_parser(name, help=f"{name} execution for a source")
            switch.add_argument("--source", required=True)
            switch.add_argument("--user", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['subcommand']}")(options)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("; ".join(messages)) from exc

    def _source(self, name: str) -> Source:
        source = Source.objects.filter(name=name).first()
        if source is None:
            names = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no source named {name!r}; registered sources: {names}")
        return source

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {username!r}")
        return user

    def _plan(self, options: dict[str, Any]) -> None:
        plan = execution_plan(source=self._source(options["source"]))
        if plan.problem:
            self.stdout.write(f"nothing would run: {plan.problem}")
        for step in plan.steps:
            outcome = f"REFUSED: {step.problem}" if step.problem else f"-> {step.destination}"
            self.stdout.write(f"  task {step.task.pk}: {step.task.copy.path} {outcome}")
        self.stdout.write(
            f"{len(plan.runnable)} file(s), {plan.bytes:,} bytes, would move to {plan.root}; "
            f"{len(plan.refused)} refused"
        )

    def _execute(self, options: dict[str, Any]) -> None:
        result = execution_run(
            source=self._source(options["source"]),
            user=self._user(options["user"]),
            task_ids=options["task"],
        )
        for entry in result.quarantined:
            self.stdout.write(
                f"  quarantined task {entry.task_id}: {entry.original_path} -> "
                f"{entry.quarantine_path} (entry {entry.pk})"
            )
        for task, reason in result.refused:
            self.stdout.write(f"  refused task {task.pk}: {reason}")
        self.stdout.write(
            f"{len(result.quarantined)} file(s) quarantined, {len(result.refused)} refused"
        )
        if result.refused:
            raise CommandError(f"{len(result.refused)} task(s) were refused; see above")

    def _restore(self, options: dict[str, Any]) -> None:
        entry = QuarantineEntry.objects.filter(pk=options["entry"]).first()
        if entry is None:
            raise CommandError(f"no quarantine entry {options['entry']}")
        quarantine_restore(entry=entry, user=self._user(options["user"]))
        self.stdout.write(f"restored {entry.source.name}:{entry.original_path}")

    def _purge(self, options: dict[str, Any]) -> None:
        # Without --user the software purges, as from cron.
        user = self._user(options["user"]) if options["user"] is not None else None
        result = quarantine_purge(user=user, dry_run=options["dry_run"])
        verb = "would purge" if options["dry_run"] else "purged"
        for entry in result.purged:
            self.stdout.write(f"  {verb} entry {entry.pk}: {entry.quarantine_path}")
        for entry, until in result.kept:
            self.stdout.write(f"  kept entry {entry.pk} until {until:%Y-%m-%d %H:%M}")
        for entry, reason in result.problems:
            self.stdout.write(f"  problem with entry {entry.pk}: {reason}")
        self.stdout.write(
            f"{verb} {len(result.purged)}, kept {len(result.kept)} within the retention period, "
            f"{len(result.problems)} problem(s)"
        )

    def _switch(self, options: dict[str, Any], enabled: bool) -> None:
        source = self._source(options["source"])
        source_policy_set(source=source, enabled=enabled, user=self._user(options["user"]))
        self.stdout.write(f"execution {'on' if enabled else 'off'} for {source.name}")

    def _enable(self, options: dict[str, Any]) -> None:
        self._switch(options, True)

    def _disable(self, options: dict[str, Any]) -> None:
        self._switch(options, False)
