"""Reads behind reports: the findings (DESIGN.md's export) a report's scope covers."""

from __future__ import annotations

from django.db.models import QuerySet

from inventory.models import Copy, Scan, ScanError, Source
from inventory.selectors.findings import findings_document
from inventory.selectors.visibility import member_scope_for_audience
from reports.selectors.scope import ReportScope, filter_to_period

# The weakest tier of a group's members is the group's tier.
TIERS = ("certain", "probable", "possible")
_TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


def scans_in_scope(*, sources: QuerySet[Source], scope: ReportScope) -> list[Scan]:
    """Return each source's latest finished scan that started within the period."""
    scans = []
    for source in sources:
        finished = source.scans.filter(status=Scan.Status.FINISHED)
        scan = filter_to_period(finished, "started_at", scope).first()
        if scan is not None:
            scans.append(scan)
    return scans


def report_findings(*, sources: QuerySet[Source], scope: ReportScope) -> dict:
    """Return the findings export (DESIGN.md, version 1) restricted to the scope.

    Without a period this is exactly inventory.selectors.findings.findings_document(sources=...).
    With one, a group stays when one of its copies in scope was first seen within the
    period, and the errors are those of each source's latest scan within the period.
    """
    # Everyone who may read the report sees it whole: members outside the departments it
    # covers are counted, not listed (inventory.selectors.MemberScope).
    document = findings_document(sources=sources, scope=member_scope_for_audience(sources=sources))
    if not scope.has_period:
        return document
    first_seen = filter_to_period(
        Copy.objects.filter(source__in=sources, state=Copy.State.PRESENT), "first_seen_at", scope
    )
    in_period = set(first_seen.values_list("source__name", "path").iterator(chunk_size=10_000))
    document["groups"] = [
        g
        for g in document["groups"]
        if any((m["source"], m["path"]) in in_period for m in g["members"])
    ]
    scans = scans_in_scope(sources=sources, scope=scope)
    errors = ScanError.objects.filter(scan__in=scans).select_related("scan__source")
    document["errors"] = [
        {"source": e.scan.source.name, "path": e.path, "error": e.error}
        for e in errors.order_by("scan__source__name", "path")
    ]
    return document


def group_tier(group: dict) -> str:
    """Return the weakest tier among a findings group's members."""
    return max((m["tier"] for m in group["members"]), key=lambda t: _TIER_RANK.get(t, 99))
