"""manage.py compare_archive: what a merge with a partner's archive would duplicate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.files import copy_atomic
from governance.formatting import count, si_bytes
from inventory.bundles.format import BundleError
from reports.services import ReportFailed, ReportRefused, report_path
from reports.services.bundles import archive_compare, bundle_open, sources_named
from reports.services.merge import merge_report_build


class Command(BaseCommand):
    help = (
        "Compare a partner's signed fingerprint bundle with the local inventory: exact and "
        "fingerprint overlaps, personal-data exposure, licences paid twice, likelier masters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", help="the partner's bundle (manage.py export_fingerprints)")
        parser.add_argument(
            "--source", action="append", default=[], help="limit to this source (repeatable)"
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--report", help="also build the merge-readiness report to this PDF")
        parser.add_argument(
            "--sign", action="store_true", help="sign the report (PROVENA_SIGNING_CERT)"
        )
        parser.add_argument("--force", action="store_true", help="overwrite an existing --report")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["report"]) if options["report"] else None
        if output is not None:
            if output.exists() and not options["force"]:
                raise CommandError(f"{output} already exists; choose another --report or --force")
            if not output.parent.is_dir():
                raise CommandError(f"the folder {output.parent} does not exist")
        try:
            sources = sources_named(options["source"])
            bundle = bundle_open(options["bundle"])
            comparison = archive_compare(bundle=bundle, sources=sources)
        except BundleError as exc:
            raise CommandError(f"{options['bundle']}: {exc}") from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(comparison.summary(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(self._text(comparison.summary()))
        if output is None:
            return
        try:
            report = merge_report_build(
                comparison=comparison,
                bundle_file=Path(options["bundle"]).name,
                sign=options["sign"],
                user=None,
            )
            copy_atomic(report_path(report), output, create_folder=False)
        except ReportRefused as exc:
            raise CommandError(str(exc)) from exc
        except ReportFailed as exc:
            raise CommandError(f"report {exc.report.number} failed: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        signed = f"signed by {report.signer_subject}" if report.signed else "not signed"
        self.stderr.write(f"{report.number}: {report.pages} pages, {signed}, written to {output}")

    @staticmethod
    def _text(s: dict[str, Any]) -> str:
        b = s["bundle"]
        lines = [
            f"bundle from {b['organisation'] or 'an unnamed organisation'} ({b['created_at']}), "
            f"signed by {b['signer']}",
            f"  certificate sha256 {b['signer_certificate_sha256']}",
            f"  manifest sha256 {b['manifest_sha256']}",
            f"partner: {count(s['partner']['renditions'])} renditions, "
            f"{count(s['partner']['copies'])} copies, {si_bytes(s['partner']['bytes'])}",
            f"local:   {count(s['local']['renditions'])} renditions, "
            f"{count(s['local']['copies'])} copies, {si_bytes(s['local']['bytes'])}",
            f"exact overlaps (identical pixels): {count(s['exact'])} renditions, "
            f"{si_bytes(s['bytes_exact'])} of the partner's copies; "
            f"{count(s['exact_files'])} files byte-identical",
            f"fingerprint matches (not verified on pixels): {count(s['near'])} renditions, "
            f"{si_bytes(s['bytes_near'])}",
            "personal-data holdings the merge would add: "
            f"{count(s['personal_data_holdings_added'])}"
            f" (of {count(s['personal_data_photographs'])} photographs showing people)",
            f"licensed on both sides (paid twice): {count(s['double_paid_renditions'])} renditions",
            "likelier master: "
            + ", ".join(f"{side} {count(n)}" for side, n in s["masters"].items()),
            "by local source:",
        ]
        for row in s["local_sources"]:
            lines.append(
                f"  {row['source']} ({row['department']}): exact {count(row['exact_copies'])} "
                f"copies {si_bytes(row['exact_bytes'])}, fingerprint {count(row['near_copies'])}"
                f" copies {si_bytes(row['near_bytes'])}"
            )
        return "\n".join(lines)
