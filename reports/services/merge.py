"""Build the merge-readiness report: a partner's bundle compared with this archive, signed.

The comparison is reports.services.bundles.archive_compare(); this module renders it (scope,
method, overlap tables, personal-data exposure, licences paid twice, recommendations, both
sides' digests and signers), signs and registers it like every other report (build.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from governance.audit import audit_head
from governance.models import User
from governance.version import VERSION
from inventory.models import Licence, Rendition
from reports.models import Report
from reports.rendering import pdf_render
from reports.selectors.scope import ReportScope
from reports.services.build import (
    ReportFailed,
    ReportRefused,
    _report_register,
    pdf_sign_checked,
    report_store,
)
from reports.services.bundles import ArchiveComparison
from reports.signing import SigningCredentials, SigningError, signing_credentials_load

ATTACHMENT = "comparison.json"
# The headline figures kept on the registry row, and compared with the previous run.
HEADLINE = ("exact", "exact_files", "near", "bytes_exact", "bytes_near",
            "personal_data_holdings_added", "double_paid_renditions")  # fmt: skip


def _previous(manifest_sha256: str, sources: list[str]) -> Report | None:
    """Return the last finished merge-readiness report on the same bundle and local scope."""
    for report in Report.objects.filter(
        kind=Report.Kind.MERGE_READINESS, status=Report.Status.FINISHED
    ).order_by("-finished_at", "-id")[:200]:
        bundle = report.scope.get("bundle", {})
        if bundle.get("manifest_sha256") == manifest_sha256 and (
            report.scope.get("resolved_sources") == sources
        ):
            return report
    return None


def _recommendations(overlaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return what to do before the merge, one row per local copy that overlaps."""
    rows = []
    for overlap in overlaps:
        if overlap["tier"] == "exact":
            action = "retire one side's copy: both archives hold these pixels"
        elif overlap["master"] == "partner":
            action = "review, then retire ours: the partner holds the likelier master"
        else:
            action = "review, then leave the partner's copy out of the merge: ours is the master"
        for copy in overlap["local_copies"]:
            rows.append({**copy, "tier": overlap["tier"], "master": overlap["master"],
                         "personal": overlap["personal"], "partner_id": overlap["partner_id"],
                         "action": action})  # fmt: skip
    # Holdings of people first (the PDPO exposure), then the exact ones, then by place.
    rows.sort(key=lambda r: (not r["personal"], r["tier"] != "exact", r["source"], r["path"]))
    return rows


def _double_paid(overlaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the local licences of the renditions the partner has licensed too."""
    ids = [o["local_rendition"] for o in overlaps if o["double_paid"]]
    assets = dict(Rendition.objects.filter(pk__in=ids).values_list("pk", "asset_id"))
    licences = Licence.objects.filter(assets__in=set(assets.values())).distinct()
    return [
        {"licensor": lic.licensor, "reference": lic.reference, "cost": lic.cost,
         "currency": lic.currency, "start": lic.start, "end": lic.end}
        for lic in licences.order_by("licensor", "reference")
    ]  # fmt: skip


def merge_report_build(
    *,
    comparison: ArchiveComparison,
    bundle_file: str,
    sign: bool = False,
    user: User | None = None,
    credentials: SigningCredentials | None = None,
) -> Report:
    """Render, sign (if asked), store and register the merge-readiness report."""
    if sign and credentials is None:
        try:
            credentials = signing_credentials_load()
        except SigningError as exc:
            raise ReportRefused(f"cannot sign: {exc}") from exc
    summary = comparison.summary()
    previous = _previous(comparison.bundle.manifest_sha256, comparison.local_sources)
    report = _report_register(
        kind=Report.Kind.MERGE_READINESS,
        scope=ReportScope(sources=tuple(comparison.local_sources)),
        sources=comparison.local_sources,
        sign=sign,
        user=user,
    )
    report.scope = {**report.scope, "bundle": {**summary["bundle"], "file": bundle_file}}
    Report.objects.filter(pk=report.pk).update(scope=report.scope, status=Report.Status.RUNNING)
    started = time.perf_counter()
    try:
        head = audit_head()
        generated_at = timezone.localtime()
        figures = {key: summary[key] for key in HEADLINE}
        context = {
            "report": report,
            "kind_label": Report.Kind.MERGE_READINESS.label,
            "organisation": settings.PROVENA_ORGANISATION,
            "software_version": VERSION,
            "generated_at": generated_at,
            "time_zone": timezone.get_current_timezone_name(),
            "s": summary,
            "bundle_file": bundle_file,
            "recommendations": _recommendations(summary["overlaps"]),
            "double_paid": _double_paid(summary["overlaps"]),
            "previous": previous,
            "reduction": (
                [(k, previous.figures.get(k, 0), figures[k]) for k in HEADLINE] if previous else []
            ),
            "max_rows": settings.PROVENA_REPORT_MAX_GROUPS,
            "signing_subject": credentials.display_name if credentials else None,
            "signing_certificate_sha256": credentials.certificate_sha256 if credentials else "",
            "audit_head": head,
        }
        html = render_to_string("reports/pdf/merge_readiness.html", context)
        attachment = json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n"
        pdf, pages = pdf_render(
            html=html,
            attachments={ATTACHMENT: attachment.encode("utf-8")},
            identifier=report.number,
            when=generated_at,
            descriptions={ATTACHMENT: "Comparison with the partner's fingerprint bundle, JSON"},
        )
        mark = time.perf_counter()
        signed_at, timestamped = None, False
        if credentials is not None:
            pdf, signed_at, timestamped = pdf_sign_checked(
                pdf, credentials=credentials, report=report
            )
        report_store(
            report=report,
            pdf=pdf,
            pages=pages,
            signature=(credentials, signed_at, timestamped),
            head=head,
            figures=figures,
            timings={"render_seconds": round(mark - started, 3)},
            since=(started, time.perf_counter()),
        )
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=reason, finished_at=timezone.now(), file=""
        )
        report.refresh_from_db()
        raise ReportFailed(report, reason) from exc
    return report
