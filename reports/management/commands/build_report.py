"""manage.py build_report: render (and sign) a report, register it and write it to a file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.files import copy_atomic
from governance.formatting import si_bytes
from reports.models import Report
from reports.services import ReportFailed, ReportRefused, report_build, report_path


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date; use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Build an audit, privacy or remediation report as PDF/A-3b, optionally signed (PAdES)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=Report.Kind.values)
        parser.add_argument(
            "--source", action="append", default=[], help="limit to this source (repeatable)"
        )
        parser.add_argument(
            "--department",
            action="append",
            default=[],
            help="limit to this department's sources (code, repeatable)",
        )
        parser.add_argument("--from", dest="date_from", help="first day of the period (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="last day of the period (YYYY-MM-DD)")
        parser.add_argument("--output", required=True, help="the PDF file to write")
        parser.add_argument(
            "--sign",
            action="store_true",
            help="sign with PROVENA_SIGNING_CERT and PROVENA_SIGNING_PASSWORD(_FILE)",
        )
        parser.add_argument("--force", action="store_true", help="overwrite an existing --output")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if output.exists() and not options["force"]:
            raise CommandError(f"{output} already exists; choose another --output or add --force")
        if not output.parent.is_dir():
            raise CommandError(f"the folder {output.parent} does not exist")
        period = None
        if options["date_from"] or options["date_to"]:
            period = (
                _date(options["date_from"]) if options["date_from"] else None,
                _date(options["date_to"]) if options["date_to"] else None,
            )
        verbose = options["verbosity"] >= 1

        def progress(report: Report, stage: str) -> None:
            if verbose and stage != "finished":
                self.stderr.write(f"{report.number}: {stage} ({report.progress}%)")

        try:
            report = report_build(
                kind=options["kind"],
                sources=options["source"],
                departments=options["department"],
                period=period,
                sign=options["sign"],
                user=None,
                progress=progress,
            )
        except ReportRefused as exc:
            raise CommandError(str(exc)) from exc
        except ReportFailed as exc:
            raise CommandError(f"report {exc.report.number} failed: {exc}") from exc
        try:
            copy_atomic(report_path(report), output, create_folder=False)
        except OSError as exc:
            raise CommandError(
                f"report {report.number} was built but {output} cannot be written: {exc.strerror}"
            ) from exc
        signed = f"signed by {report.signer_subject}" if report.signed else "not signed"
        self.stdout.write(
            f"{report.number}: {report.get_kind_display()}, {report.pages} pages, "
            f"{si_bytes(report.size)}, {signed}\n"
            f"sha256 {report.sha256}\n"
            f"written to {output}"
        )
