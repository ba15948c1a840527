"""manage.py import_catalogue FILE.csv [--dry-run]: catalogue records for assets, all or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.services.catalogue import COLUMNS, catalogue_import


class Command(BaseCommand):
    help = (
        "Import catalogue fields and numbers from a CSV, matching each row to a copy by path "
        f"or SHA-256. Columns: {', '.join(COLUMNS)}. Writes nothing unless every row matches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (UTF-8, header row first)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and show the plan; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        report = catalogue_import(data=data, dry_run=options["dry_run"], name=path.name)
        for problem in report.problems:
            self.stdout.write(f"file: {problem}")
        for plan in report.rows:
            self.stdout.write(("ok    " if plan.ok else "ERROR ") + plan.describe())
        if not report.ok:
            raise CommandError(
                f"nothing written: {len(report.problems)} problem(s) with the file and "
                f"{len(report.failed_rows)} of {len(report.rows)} row(s) that cannot be applied"
            )
        if report.dry_run:
            assets = len({p.asset_id for p in report.rows})
            self.stdout.write(
                f"dry run: {len(report.rows)} rows for {assets} assets would be applied; "
                "nothing written"
            )
        else:
            self.stdout.write(
                f"imported {len(report.rows)} rows: {report.assets_changed} assets changed"
            )
