"""manage.py export_findings: the findings export (DESIGN.md, version 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.files import write_text_atomic
from inventory.models import Source
from inventory.selectors.findings import findings_csv, findings_document


class Command(BaseCommand):
    help = "Write the findings (duplicate groups and scan errors) as JSON or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument(
            "--source", action="append", default=[], help="limit to this source (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = Source.objects.all()
        if options["source"]:
            sources = sources.filter(name__in=options["source"])
            unknown = set(options["source"]) - set(sources.values_list("name", flat=True))
            if unknown:
                raise CommandError(f"unknown source(s): {', '.join(sorted(unknown))}")
        document = findings_document(sources=sources)
        if options["format"] == "json":
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        else:
            text = findings_csv(document)
        if options["output"]:
            target = Path(options["output"])
            try:
                write_text_atomic(target, text, create_folder=False)
            except OSError as exc:
                raise CommandError(f"cannot write {target}: {exc.strerror}") from exc
            self.stderr.write(f"wrote {len(document['groups'])} groups to {target}")
        else:
            self.stdout.write(text, ending="")
