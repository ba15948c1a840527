"""manage.py fixity_check [--source NAME]: re-hash present copies and flag changed or gone ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.models import Source
from inventory.services.fixity import CHANGED, MISSING, UNREADABLE, fixity_check

_LISTED = 50  # problems printed; the rest are on the audit page and in the API


class Command(BaseCommand):
    help = "Re-hash present copies (read-only), record the outcomes, flag changed or gone files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", help="check only this source (default: every source)")

    def handle(self, *args: Any, **options: Any) -> None:
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                names = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"no source named {options['source']!r}; registered sources: {names}"
                )
        result = fixity_check(source=source)
        self.stdout.write(
            f"fixity check: {result.checked:,} copies checked, {result.passed:,} passed, "
            f"{result.count(CHANGED):,} changed, {result.count(MISSING):,} missing, "
            f"{result.count(UNREADABLE):,} unreadable"
        )
        for reason in result.refused:
            self.stdout.write(f"  refused: {reason}")
        for problem in result.problems[:_LISTED]:
            self.stdout.write(
                f"  {problem.kind:<10} {problem.source}:{problem.path}: {problem.reason}"
            )
        if len(result.problems) > _LISTED:
            self.stdout.write(
                f"  ... and {len(result.problems) - _LISTED} more; see /audit/?event_type="
                "fixity_computed&outcome=failure"
            )
        if not result.ok:
            failed = len(result.problems)
            raise CommandError(
                f"fixity check failed: {failed} copies did not verify"
                + (f", {len(result.refused)} source(s) refused" if result.refused else "")
            )
