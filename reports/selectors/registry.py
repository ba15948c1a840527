"""Reads behind reports: the registry of reports, who may see which, and their signers."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import User
from governance.roles import is_organisation_wide
from inventory.selectors.visibility import sources_visible_to
from reports.models import Report


def reports_visible_to(*, user: User) -> list[Report]:
    """Return the reports whose sources the user may all see, newest first."""
    visible = set(sources_visible_to(user=user).values_list("name", flat=True))
    reports = Report.objects.select_related("created_by")
    # Auditors and administrators (by role, not only by flag) see every report, including
    # those on sources since removed.
    if is_organisation_wide(user=user):
        return list(reports)
    return [r for r in reports if set(r.scope.get("resolved_sources", [])) <= visible]


def report_visible_to(*, user: User, number: str) -> Report | None:
    """Return the report with this number if the user may see it."""
    report = Report.objects.filter(number=number).select_related("created_by").first()
    if report is None:
        return None
    if is_organisation_wide(user=user):
        return report
    visible = set(sources_visible_to(user=user).values_list("name", flat=True))
    return report if set(report.scope.get("resolved_sources", [])) <= visible else None


def registry_certificates() -> list[str]:
    """Return the PEM of every certificate this Provena has signed reports with."""
    return list(
        Report.objects.exclude(signer_certificate="")
        .order_by()
        .values_list("signer_certificate", flat=True)
        .distinct()
    )


def reports_with_sha256(*, sha256: str) -> QuerySet[Report]:
    """Return the finished reports whose registered file has this SHA-256."""
    return Report.objects.filter(sha256=sha256, status=Report.Status.FINISHED)
