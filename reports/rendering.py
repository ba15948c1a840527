"""Render a report to PDF/A-3b with WeasyPrint from the templates under templates/reports/pdf/.

A report is a list of sections per kind (SECTIONS); a later capability adds its section by
adding a template and a key here, and its figures in reports.selectors.figures.report_data().
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from governance.charts import Bar, hbar_chart
from governance.formatting import count
from governance.version import VERSION
from inventory.master_rule import describe_rule
from inventory.models import Rendition
from inventory.selectors.findings import findings_csv
from inventory.services.scan_paths import thumbnail_dir
from reports.models import Report
from reports.selectors.figures import ReportData

logger = logging.getLogger(__name__)

# Thumbnails larger than this are left out rather than bloat the PDF.
_MAX_THUMBNAIL_BYTES = 512 * 1024
# How many of the largest groups are shown as pictures (the table lists more).
GALLERY_SIZE = 12
ATTACHMENT_JSON = "findings.json"
ATTACHMENT_CSV = "findings.csv"


@dataclass(frozen=True, slots=True)
class Section:
    """One numbered section of a report: its anchor, heading and template."""

    key: str
    title: str
    template: str


_SUMMARY = {
    Report.Kind.AUDIT: Section("summary", "Executive summary", "reports/pdf/summary_audit.html"),
    Report.Kind.PRIVACY: Section(
        "summary", "Executive summary", "reports/pdf/summary_privacy.html"
    ),
    Report.Kind.REMEDIATION: Section(
        "summary", "Executive summary", "reports/pdf/summary_remediation.html"
    ),
}
_METHODOLOGY = Section("methodology", "Methodology", "reports/pdf/methodology.html")
_INVENTORY = Section(
    "inventory", "Inventory by source and department", "reports/pdf/inventory.html"
)
_DUPLICATION = Section(
    "duplication", "Duplication by tier and relation", "reports/pdf/duplication.html"
)
_LARGEST = Section("largest", "Largest duplicate groups", "reports/pdf/largest_groups.html")
_PERSONAL = Section("personal-data", "Personal-data holdings", "reports/pdf/personal_data.html")
_EXTERNAL = Section(
    "external", "External-facing sources and their duplicates", "reports/pdf/external.html"
)
_DECISIONS = Section("decisions", "Decisions and remediation", "reports/pdf/decisions.html")
_PENDING = Section("pending", "Duplicates awaiting a decision", "reports/pdf/pending.html")
_ERRORS = Section("errors", "Exceptions and scan errors", "reports/pdf/errors.html")
_AUDIT_LOG = Section("audit-log", "Audit log", "reports/pdf/audit_log.html")
_APPENDIX = Section("appendix", "Appendix", "reports/pdf/appendix.html")

SECTIONS: dict[str, list[Section]] = {
    Report.Kind.AUDIT: [
        _SUMMARY[Report.Kind.AUDIT],
        _METHODOLOGY,
        _INVENTORY,
        _DUPLICATION,
        _LARGEST,
        _ERRORS,
        _AUDIT_LOG,
        _APPENDIX,
    ],
    Report.Kind.PRIVACY: [
        _SUMMARY[Report.Kind.PRIVACY],
        _METHODOLOGY,
        _PERSONAL,
        _EXTERNAL,
        _ERRORS,
        _AUDIT_LOG,
        _APPENDIX,
    ],
    Report.Kind.REMEDIATION: [
        _SUMMARY[Report.Kind.REMEDIATION],
        _METHODOLOGY,
        _DECISIONS,
        _PENDING,
        _AUDIT_LOG,
        _APPENDIX,
    ],
}


def _thumbnail_uri(name: str, *, blur_rendition: int | None = None) -> str | None:
    """Return a thumbnail as a data: URI, or None when it is missing or too large.

    Thumbnails of renditions showing identifiable people have their faces pixelated: a
    report is read far beyond the legal team.
    """
    if not name:
        return None
    folder = thumbnail_dir().resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        return None
    try:
        if path.stat().st_size > _MAX_THUMBNAIL_BYTES:
            return None
        data = path.read_bytes()
        if blur_rendition is not None:
            from governance.privacy.services.images import masked_thumbnail

            data = masked_thumbnail(
                rendition=Rendition.objects.get(pk=blur_rendition), thumbnail=path
            )
    except (OSError, Rendition.DoesNotExist):
        return None
    kind = "png" if data[:4] == b"\x89PNG" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{count(n)} {one if n == 1 else many}"


def _relations(figures: dict) -> list[tuple[str, int]]:
    """Return the member relations, most frequent first."""
    return sorted(figures["members_by_relation"].items(), key=lambda kv: (-kv[1], kv[0]))


def _charts(data: ReportData) -> dict[str, str]:
    figures = data.figures
    by_source = sorted(data.sources, key=lambda r: (-r.bytes, r.name))[:20]
    by_department = sorted(data.departments, key=lambda d: (-d["bytes"], d["department"]))[:20]
    tiers = figures["groups_by_tier"]
    relations = _relations(figures)
    return {
        "sources": mark_safe(
            hbar_chart(
                [Bar(r.name, r.bytes, r.reclaimable_bytes) for r in by_source],
                legend=("stored", "reclaimable (certain copies)"),
            )
        ),
        "departments": mark_safe(
            hbar_chart(
                [Bar(d["department"], d["bytes"], d["reclaimable_bytes"]) for d in by_department],
                legend=("stored", "reclaimable (certain copies)"),
            )
        ),
        "tiers": mark_safe(
            hbar_chart(
                [Bar(tier, tiers.get(tier, 0)) for tier in ("certain", "probable", "possible")],
                value_format=lambda v: _plural(int(v), "group", "groups"),
            )
        ),
        "relations": mark_safe(
            hbar_chart(
                [Bar(name.replace("_", " "), n) for name, n in relations],
                value_format=lambda v: _plural(int(v), "copy", "copies"),
            )
        ),
    }


def _software_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"Provena": VERSION}
    for package in ("Django", "Pillow", "ImageHash", "WeasyPrint", "pyHanko", "cryptography"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def report_context(
    *,
    report: Report,
    data: ReportData,
    audit_head: object | None,
    generated_at: datetime,
    signing_subject: str | None,
) -> dict:
    """Return the template context of a report."""
    gallery = []
    if settings.PROVENA_REPORT_THUMBNAILS:
        for group in data.largest_groups:
            uri = _thumbnail_uri(
                group.thumbnail, blur_rendition=group.rendition_id if group.personal_data else None
            )
            if uri:
                gallery.append({"group": group, "uri": uri})
            if len(gallery) >= GALLERY_SIZE:
                break
    local = timezone.localtime(generated_at)
    kind_label = Report.Kind(report.kind).label
    external = [row for row in data.sources if row.risk_tier == "external"]
    external_names = {row.name for row in external}
    return {
        "report": report,
        "kind_label": kind_label,
        "organisation": settings.PROVENA_ORGANISATION,
        "software_version": VERSION,
        "software_versions": _software_versions(),
        "generated_at": local,
        "header_left": f"{settings.PROVENA_ORGANISATION} · {kind_label}",
        "footer_left": (
            f"{report.number} · Provena {VERSION} · generated {local:%d %b %Y %H:%M %Z}"
        ),
        "time_zone": timezone.get_current_timezone_name(),
        "scope": data.scope,
        "data": data,
        "figures": data.figures,
        "sections": SECTIONS[report.kind],
        "charts": _charts(data),
        "relations": _relations(data.figures),
        "gallery": gallery,
        "thumbnails_enabled": settings.PROVENA_REPORT_THUMBNAILS,
        "master_rule": describe_rule(settings.PROVENA_MASTER_RULE),
        "face_min_px": settings.PROVENA_FACE_MIN_PX,
        "face_min_score": settings.PROVENA_FACE_MIN_SCORE,
        "external_sources": external,
        "external_groups": [g for g in data.largest_groups if external_names & set(g.sources)],
        "audit_head": audit_head,
        "currency": settings.PROVENA_COST_CURRENCY,
        "max_groups": settings.PROVENA_REPORT_MAX_GROUPS,
        "max_errors": settings.PROVENA_REPORT_MAX_ERRORS,
        "signing_subject": signing_subject,
        "attachments": [ATTACHMENT_JSON, ATTACHMENT_CSV],
    }


def report_html(context: dict) -> str:
    """Return the report as HTML for WeasyPrint."""
    return render_to_string("reports/pdf/report.html", context)


def findings_attachments(document: dict) -> dict[str, bytes]:
    """Return the embedded files: the findings export as JSON and CSV."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return {
        ATTACHMENT_JSON: text.encode("utf-8"),
        ATTACHMENT_CSV: findings_csv(document).encode("utf-8"),
    }


def pdf_render(
    *,
    html: str,
    attachments: dict[str, bytes],
    identifier: str,
    when: datetime,
    descriptions: dict[str, str] | None = None,
) -> tuple[bytes, int]:
    """Return the PDF/A-3b bytes of the report HTML, findings embedded, and its page count."""
    import weasyprint  # heavy (Pango, fonts): loaded only when a report is rendered

    # Reports reference nothing outside themselves: pictures are inlined as data: URIs.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    files = [
        weasyprint.Attachment(
            string=content,
            name=name,
            description=(descriptions or {}).get(name)
            or (
                "Findings export (provena.findings/1), JSON"
                if name.endswith(".json")
                else "Findings export (provena.findings/1), one row per group member, CSV"
            ),
            created=when,
            modified=when,
            relationship="Data",
            url_fetcher=fetcher,
        )
        for name, content in attachments.items()
    ]
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    pdf = document.write_pdf(
        attachments=files,
        pdf_variant="pdf/a-3b",
        pdf_identifier=identifier.encode("ascii"),
    )
    return pdf, len(document.pages)
