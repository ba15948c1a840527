"""manage.py scan PATH: register PATH as a source if new, and scan it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.template.defaultfilters import filesizeformat

from governance.database import CONNECTION_ERRORS, database_failure, database_full
from inventory.models import Scan, Source
from inventory.services.scan import scan_run
from inventory.services.scan_lifecycle import ScanAlreadyRunning
from inventory.services.sources import SourceRefused, source_register


class _Progress:
    """A progress bar on a terminal, occasional lines otherwise."""

    def __init__(self, stream: OutputWrapper, interactive: bool) -> None:
        self.stream = stream
        self.bar: Any = None  # a tqdm bar (tqdm has no type information), made when first needed
        self.interactive = interactive
        self.last_reported = -1
        self.announced = False

    def __call__(self, scan: Scan) -> None:
        total = scan.files_to_examine
        done = scan.files_examined
        if not self.announced and scan.parameters.get("runner") == "celery":
            # The counts come from the database: the Celery workers record the batches.
            self.announced = True
            self.stream.write(
                f"queued {scan.parameters.get('batches', 0)} batches of scan {scan.pk} for "
                f"Celery workers; waiting (start workers with `celery -A governance worker`)"
            )
        if self.interactive:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=total,
                    unit="file",
                    desc=f"scanning {scan.source.name}",
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
            self.bar.update(done - self.bar.n)
        elif (
            total
            and done > self.last_reported
            and (done == total or done - self.last_reported >= max(total // 10, 1))
        ):
            self.last_reported = done
            pace = f", {scan.rate:,.1f} files/s" if scan.rate else ""
            if scan.eta_seconds and done < total:
                pace += f", about {scan.eta_seconds:,.0f} s to go"
            self.stream.write(f"examined {done}/{total} new or changed files{pace}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = "Register PATH as a source if it is new and scan it (read-only, incremental)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="folder to scan; must lie under PROVENA_ALLOWED_ROOTS")
        parser.add_argument("--source", help="source name (default: the folder's name)")
        parser.add_argument("--department", help="department code, e.g. LCSD")
        parser.add_argument(
            "--risk-tier", choices=Source.RiskTier.values, default=Source.RiskTier.INTERNAL
        )
        parser.add_argument(
            "--authoritative", action="store_true", help="mark a new source as holding masters"
        )
        parser.add_argument(
            "--allow-nested",
            action="store_true",
            help="register PATH even though it nests in or encloses a source of the same "
            "department (their common files are inventoried twice)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="examining processes (default: cores); with a broker, how many Celery worker "
            "processes to split the work for",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        try:
            self._scan(options)
        except CONNECTION_ERRORS as exc:
            back = "has room again" if database_full(exc) else "is back"
            raise CommandError(
                f"{database_failure(exc)} Nothing is half-recorded: each batch of files is "
                f"recorded whole or not at all. Run the scan again once the database {back}; "
                "it carries on where this one stopped."
            ) from exc

    def _scan(self, options: dict) -> None:
        try:
            source = source_register(
                root=Path(options["path"]),
                name=options["source"],
                department_code=options["department"],
                risk_tier=options["risk_tier"],
                authoritative=options["authoritative"],
                allow_nested=options["allow_nested"],
            )
        except SourceRefused as exc:
            raise CommandError(str(exc)) from exc
        interactive = sys.stderr.isatty() and not options["no_progress"]
        progress = _Progress(self.stdout, interactive)
        try:
            scan = scan_run(source=source, workers=options["workers"], progress=progress)
        except ScanAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        if scan.status != Scan.Status.FINISHED:
            raise CommandError(
                f"scan {scan.pk} of {source.name} {scan.status}: {scan.failure_reason}"
            )
        self._summary(scan)

    def _summary(self, scan: Scan) -> None:
        seconds = scan.timings.get("total_seconds", 0) or 0
        rate = scan.files_seen / seconds if seconds else 0
        lines = [
            f"scan {scan.pk} of {scan.source.name} finished in {seconds:.1f} s "
            f"({rate:,.0f} files/s)",
            f"  files       {scan.files_seen:>10,}   ({filesizeformat(scan.bytes_seen)})",
            f"  new         {scan.files_new:>10,}",
            f"  changed     {scan.files_changed:>10,}",
            f"  unchanged   {scan.files_unchanged:>10,}",
            f"  moved       {scan.files_moved:>10,}",
            f"  missing     {scan.files_missing:>10,}",
            f"  errors      {scan.errors:>10,}",
            f"  duplicate groups  {scan.duplicate_groups:>4,}   "
            f"reclaimable {filesizeformat(scan.reclaimable_bytes)}",
        ]
        unverified = (scan.timings.get("matching") or {}).get("unverifiable", 0)
        if unverified:
            lines.insert(
                -1, f"  unverified pairs  {unverified:>4,}   (their files are listed as errors)"
            )
        for line in lines:
            self.stdout.write(line)
        if scan.errors:
            self.stdout.write(
                f"  {scan.errors} file(s) could not be inventoried or compared; list them with "
                f"the scan page or the API (/api/scans/{scan.pk}/errors/)"
            )
