"""manage.py verify_report: check a report's signature, integrity, signer and registry entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.verification import NotAPdf, report_file_verify


class Command(BaseCommand):
    help = "Verify a report PDF: signature, unmodified since signing, signer, registry entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the report PDF to verify")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            result = report_file_verify(data=data)
        except NotAPdf as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(f"file        {path}")
        self.stdout.write(f"sha256      {result.sha256}")
        if result.signer_subject:
            self.stdout.write(f"signer      {result.signer_subject}")
            self.stdout.write(f"certificate sha256 {result.certificate_sha256}")
        if result.signed_at:
            source = "timestamp authority" if result.timestamped else "signer's clock"
            self.stdout.write(f"signed at   {result.signed_at:%Y-%m-%d %H:%M:%S %Z} ({source})")
        if result.report:
            self.stdout.write(f"report      {result.report.number}")
        for check in result.checks:
            mark = {"pass": "ok  ", "fail": "FAIL", "not checked": "--  "}[check.status]
            self.stdout.write(f"[{mark}] {check.name}: {check.detail}")
        if not result.ok:
            first = result.failures[0]
            raise CommandError(f"verification failed: {first.name}: {first.detail}")
        self.stdout.write(self.style.SUCCESS("verified: the report is authentic and unmodified"))
