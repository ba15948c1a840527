"""manage.py export_fingerprints: write this archive's signed fingerprint bundle for a partner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.formatting import si_bytes
from inventory.bundles.format import BundleError
from reports.services.bundles import bundle_export, sources_named


class Command(BaseCommand):
    help = (
        "Write a signed fingerprint bundle (provena.fingerprints/1): per rendition only what "
        "matching needs, no pixels, thumbnails, metadata or face encodings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="the bundle file to write (.zip)")
        parser.add_argument(
            "--source", action="append", default=[], help="limit to this source (repeatable)"
        )
        parser.add_argument(
            "--with-paths", action="store_true", help="include each copy's path in its source"
        )
        parser.add_argument(
            "--exclude-personal-data",
            action="store_true",
            help="leave out renditions whose photograph shows identifiable people",
        )
        parser.add_argument("--force", action="store_true", help="overwrite an existing --output")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if output.exists() and not options["force"]:
            raise CommandError(f"{output} already exists; choose another --output or add --force")
        if not output.parent.is_dir():
            raise CommandError(f"the folder {output.parent} does not exist")
        try:
            sources = sources_named(options["source"])
            written, left_out = bundle_export(
                output=output,
                sources=sources,
                with_paths=options["with_paths"],
                exclude_personal_data=options["exclude_personal_data"],
            )
        except BundleError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        lines = [
            f"wrote {written.rows} renditions ({written.copies} copies) to {output} "
            f"({si_bytes(output.stat().st_size)})",
            f"manifest sha256 {written.manifest_sha256}",
            f"data sha256 {written.data_sha256}",
        ]
        if options["exclude_personal_data"]:
            lines.append(f"left out {left_out} renditions showing identifiable people")
        self.stdout.write("\n".join(lines))
