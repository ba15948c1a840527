"""manage.py remediation_status --format json|table: counts by status, department and age."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from governance.remediation.models import RemediationTask
from governance.remediation.selectors.dashboard import remediation_status
from governance.remediation.selectors.tasks import today


class Command(BaseCommand):
    help = "Print remediation task counts by status, department and age."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("json", "table"), default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        status = remediation_status(tasks=RemediationTask.objects.all(), day=today())
        if options["format"] == "json":
            self.stdout.write(json.dumps(status, indent=2, sort_keys=True))
            return
        statuses = RemediationTask.Status.values
        self.stdout.write(
            f"remediation tasks on {status['date']}: {status['total']} in all, "
            f"{status['overdue']} overdue"
        )
        self.stdout.write("")
        self.stdout.write(self._row("status", ["tasks"]))
        for name, count in status["by_status"].items():
            self.stdout.write(self._row(name, [count]))
        self.stdout.write("")
        self.stdout.write(self._row("department", [*statuses, "overdue"]))
        for department, counts in status["by_department"].items():
            self.stdout.write(self._row(department, [counts[s] for s in [*statuses, "overdue"]]))
        self.stdout.write("")
        self.stdout.write(self._row("age (outstanding)", ["tasks"]))
        for bucket, count in status["by_age"].items():
            self.stdout.write(self._row(bucket, [count]))

    @staticmethod
    def _row(label: str, cells: list) -> str:
        return f"{label:<20}" + "".join(f"{cell!s:>13}" for cell in cells)
