"""Reads behind reports: the scope, the findings and the figures a report prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from governance.models import User
from governance.privacy.selectors.cases import privacy_figures
from governance.remediation.selectors.dashboard import remediation_figures
from governance.roles import is_organisation_wide
from inventory.models import Copy, Match, Rendition, Scan, ScanError, Source
from inventory.selectors.findings import findings_document
from inventory.selectors.people import renditions_showing_people
from inventory.selectors.reclaimable import reclaimable_storage
from inventory.selectors.visibility import member_scope_for_audience, sources_visible_to
from reports.models import Report

# The weakest tier of a group's members is the group's tier.
TIERS = ("certain", "probable", "possible")
_TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
BYTES_PER_GB = 1_000_000_000


class ScopeError(ValueError):
    """A report scope that names unknown sources or departments, or an impossible period."""


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a report covers: source names, department codes and a first-seen period."""

    sources: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ScopeError(
                f"the period starts ({self.date_from}) after it ends ({self.date_to}); "
                "swap the dates"
            )

    @property
    def has_period(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the period as [start, end) instants in the organisation's time zone."""
        zone = timezone.get_current_timezone()
        start = end = None
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=zone)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=zone)
        return start, end

    def as_json(self) -> dict:
        return {
            "sources": list(self.sources),
            "departments": list(self.departments),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> ReportScope:
        return cls(
            sources=tuple(data.get("sources") or ()),
            departments=tuple(data.get("departments") or ()),
            date_from=date.fromisoformat(data["from"]) if data.get("from") else None,
            date_to=date.fromisoformat(data["to"]) if data.get("to") else None,
        )

    def describe_period(self) -> str:
        if self.date_from and self.date_to:
            return f"{self.date_from:%d %b %Y} to {self.date_to:%d %b %Y}"
        if self.date_from:
            return f"from {self.date_from:%d %b %Y}"
        if self.date_to:
            return f"up to {self.date_to:%d %b %Y}"
        return "all time"


def scope_sources(
    *, scope: ReportScope, within: QuerySet[Source] | None = None
) -> QuerySet[Source]:
    """Return the sources a scope covers, refusing names or codes that do not exist."""
    sources = (within if within is not None else Source.objects.all()).select_related("department")
    if scope.sources:
        known = set(sources.filter(name__in=scope.sources).values_list("name", flat=True))
        unknown = sorted(set(scope.sources) - known)
        if unknown:
            raise ScopeError(f"unknown source(s): {', '.join(unknown)}")
        sources = sources.filter(name__in=scope.sources)
    if scope.departments:
        known = set(
            sources.filter(department__code__in=scope.departments).values_list(
                "department__code", flat=True
            )
        )
        unknown = sorted(set(scope.departments) - known)
        if unknown:
            raise ScopeError(f"no source in scope belongs to department(s): {', '.join(unknown)}")
        sources = sources.filter(department__code__in=scope.departments)
    return sources.order_by("name")


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


# --- Findings and figures ---------------------------------------------------------------------


def _in_period(queryset: QuerySet, field_name: str, scope: ReportScope) -> QuerySet:
    start, end = scope.bounds()
    if start:
        queryset = queryset.filter(**{f"{field_name}__gte": start})
    if end:
        queryset = queryset.filter(**{f"{field_name}__lt": end})
    return queryset


def scans_in_scope(*, sources: QuerySet[Source], scope: ReportScope) -> list[Scan]:
    """Return each source's latest finished scan that started within the period."""
    scans = []
    for source in sources:
        finished = source.scans.filter(status=Scan.Status.FINISHED)
        scan = _in_period(finished, "started_at", scope).first()
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
    first_seen = _in_period(
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


@dataclass(slots=True)
class SourceRow:
    """One source's line in the report's tables."""

    name: str
    department: str
    risk_tier: str
    risk_tier_label: str
    authoritative: bool
    copies: int = 0
    bytes: int = 0
    missing: int = 0
    problems: int = 0
    duplicate_copies: int = 0
    reclaimable_bytes: int = 0
    retired_bytes: int = 0  # superseded versions: a separate figure, never "reclaimable"
    groups: int = 0

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "department": self.department,
            "risk_tier": self.risk_tier,
            "authoritative": self.authoritative,
            "copies": self.copies,
            "bytes": self.bytes,
            "missing": self.missing,
            "problems": self.problems,
            "duplicate_copies": self.duplicate_copies,
            "reclaimable_bytes": self.reclaimable_bytes,
            "retired_bytes": self.retired_bytes,
            "groups": self.groups,
        }


@dataclass(slots=True)
class GroupRow:
    """One duplicate group as the report lists it."""

    id: int
    master_source: str
    master_path: str
    members: int
    sources: list[str]
    tier: str
    reclaimable_bytes: int
    relations: dict[str, int]
    rendition_id: int | None = None
    thumbnail: str = ""
    personal_data: bool = False  # shows an identifiable person: blur it in the PDF


@dataclass(slots=True)
class ReportData:
    """Everything a report prints, collected once at build time."""

    scope: ReportScope
    sources: list[SourceRow]
    departments: list[dict]
    document: dict
    figures: dict
    largest_groups: list[GroupRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)


def _source_rows(sources: QuerySet[Source], scope: ReportScope) -> dict[str, SourceRow]:
    rows = {
        s.name: SourceRow(
            name=s.name,
            department=s.department.code if s.department else "(none)",
            risk_tier=s.risk_tier,
            risk_tier_label=s.get_risk_tier_display(),
            authoritative=s.authoritative,
        )
        for s in sources
    }
    copies = _in_period(Copy.objects.filter(source__in=sources), "first_seen_at", scope)
    stats = copies.values("source__name", "state").annotate(
        n=Count("id"), total=Sum("size"), problems=Count("id", filter=~Q(problem=""))
    )
    for stat in stats:
        row = rows[stat["source__name"]]
        if stat["state"] == Copy.State.PRESENT:
            row.copies += stat["n"]
            row.bytes += stat["total"] or 0
            row.problems += stat["problems"]
        elif stat["state"] == Copy.State.MISSING:
            row.missing += stat["n"]
    return rows


def _member_facts(sources: QuerySet[Source]) -> dict[tuple[str, str], tuple[int, int | None]]:
    """Return (size, rendition id) of every present copy that can belong to a group in scope."""
    in_scope = Copy.objects.filter(
        state=Copy.State.PRESENT, source__in=sources, rendition__asset__isnull=False
    ).values("rendition__asset")
    rows = Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset__in=in_scope).values_list(
        "source__name", "path", "size", "rendition_id"
    )
    return {(s, p): (size, r) for s, p, size, r in rows.iterator(chunk_size=10_000)}


def report_data(*, sources: QuerySet[Source], scope: ReportScope) -> ReportData:
    """Collect the findings and figures for a scope; the same snapshot gives the same figures."""
    sources = sources.select_related("department").order_by("name")
    rows = _source_rows(sources, scope)
    document = report_findings(sources=sources, scope=scope)
    facts = _member_facts(sources)
    if scope.has_period:
        in_period = _in_period(
            Copy.objects.filter(source__in=sources, state=Copy.State.PRESENT),
            "first_seen_at",
            scope,
        )
        counted = set(in_period.values_list("source__name", "path"))
    else:
        in_period, counted = None, None
    # The one definition of reclaimable storage (as the pages, export and scan summary).
    storage = reclaimable_storage(sources=sources, counted=in_period)
    for source in sources:
        row = rows[source.name]
        row.reclaimable_bytes = storage.reclaimable_by_source[source.pk].bytes
        row.retired_bytes = storage.retired_by_source[source.pk].bytes

    groups_by_tier: Counter[str] = Counter({tier: 0 for tier in TIERS})
    copies_by_tier: Counter[str] = Counter({tier: 0 for tier in TIERS})
    relations: Counter[str] = Counter()
    group_rows: list[GroupRow] = []
    for group in document["groups"]:
        tier = group_tier(group)
        groups_by_tier[tier] += 1
        member_relations = Counter(m["relation"] for m in group["members"])
        relations.update(member_relations)
        touched = set()
        # Every member but the master (which may lie in another department, unlisted).
        for member in (m for m in group["members"] if m["relation"] != "master"):
            key = (member["source"], member["path"])
            holder = rows.get(member["source"])
            if holder is None or (counted is not None and key not in counted):
                continue
            holder.duplicate_copies += 1
            copies_by_tier[member["tier"]] += 1
        for member in group["members"]:
            if member["source"] in rows:
                touched.add(member["source"])
        for name in touched:
            rows[name].groups += 1
        master = group["master"] or {"source": "another department", "path": ""}
        group_rows.append(
            GroupRow(
                id=group["id"],
                master_source=master["source"],
                master_path=master["path"],
                members=len(group["members"]) + group["other_department_copies"],
                sources=sorted({m["source"] for m in group["members"]}),
                tier=tier,
                reclaimable_bytes=group["reclaimable_bytes"],
                relations=dict(sorted(member_relations.items())),
                rendition_id=facts.get((master["source"], master["path"]), (0, None))[1],
            )
        )
    group_rows.sort(key=lambda g: (-g.reclaimable_bytes, -g.members, g.id))
    largest = group_rows[: settings.PROVENA_REPORT_MAX_GROUPS]
    shown = [g.rendition_id for g in largest if g.rendition_id]
    thumbnails: dict[int | None, str] = dict(
        Rendition.objects.filter(pk__in=shown).exclude(thumbnail="").values_list("pk", "thumbnail")
    )
    # Identifiability belongs to the photograph: a master whose own face is too small to
    # count still shows the person its other renditions show.
    with_people = renditions_showing_people(among=shown)
    for group in largest:
        group.thumbnail = thumbnails.get(group.rendition_id, "")
        group.personal_data = group.rendition_id in with_people

    source_rows = list(rows.values())
    departments: dict[str, dict] = {}
    for row in source_rows:
        dept = departments.setdefault(
            row.department,
            {
                "department": row.department,
                "sources": 0,
                "copies": 0,
                "bytes": 0,
                "duplicate_copies": 0,
                "reclaimable_bytes": 0,
                "problems": 0,
            },
        )
        dept["sources"] += 1
        for figure in ("copies", "bytes", "duplicate_copies", "reclaimable_bytes", "problems"):
            dept[figure] += getattr(row, figure)
    cost = settings.PROVENA_STORAGE_COST_PER_GB_MONTH
    for dept in departments.values():
        dept["cost_per_year"] = round(dept["reclaimable_bytes"] / BYTES_PER_GB * cost * 12, 4)
    department_rows = sorted(departments.values(), key=lambda d: d["department"])

    reclaimable = sum(r.reclaimable_bytes for r in source_rows)
    cost_month = reclaimable / BYTES_PER_GB * settings.PROVENA_STORAGE_COST_PER_GB_MONTH
    scans = scans_in_scope(sources=sources, scope=scope)
    external = [r for r in source_rows if r.risk_tier == Source.RiskTier.EXTERNAL]
    external_names = {r.name for r in external}
    privacy = privacy_figures(sources=sources)
    remediation = remediation_figures(sources=sources)
    figures = {
        "sources": len(source_rows),
        "departments": len(department_rows),
        "files": sum(r.copies for r in source_rows),
        "bytes": sum(r.bytes for r in source_rows),
        "missing": sum(r.missing for r in source_rows),
        "problem_files": sum(r.problems for r in source_rows),
        "duplicate_groups": len(document["groups"]),
        "groups_by_tier": dict(groups_by_tier),
        "copies_in_groups": sum(
            len(g["members"]) + g["other_department_copies"] for g in document["groups"]
        ),
        "members_by_relation": dict(sorted(relations.items())),
        "redundant_copies": sum(r.duplicate_copies for r in source_rows),
        "redundant_copies_by_tier": dict(copies_by_tier),
        "reclaimable_bytes": reclaimable,
        "retired_bytes": sum(r.retired_bytes for r in source_rows),
        "cost_per_gb_month": settings.PROVENA_STORAGE_COST_PER_GB_MONTH,
        "estimated_cost_per_month": round(cost_month, 4),
        "estimated_cost_per_year": round(cost_month * 12, 4),
        "scan_errors": len(document["errors"]),
        "external_sources": len(external),
        "groups_touching_external": sum(
            1
            for g in document["groups"]
            if any(m["source"] in external_names for m in g["members"])
        ),
        "external_holdings_in_groups": sum(
            1 for g in document["groups"] for m in g["members"] if m["source"] in external_names
        ),
        "personal_data_detected": privacy["assessed"],
        "decisions": privacy["decisions"],
        "privacy": privacy,
        "remediation": remediation,
        "match_reviews": match_reviews(sources=sources),
        "scans": {scan.source.name: scan.pk for scan in scans},
        "by_source": [r.as_json() for r in source_rows],
        "by_department": department_rows,
    }
    return ReportData(
        scope=scope,
        sources=source_rows,
        departments=department_rows,
        document=document,
        figures=figures,
        largest_groups=largest,
        errors=document["errors"][: settings.PROVENA_REPORT_MAX_ERRORS],
        scans=scans,
    )


def match_reviews(*, sources: QuerySet[Source]) -> dict[str, int]:
    """Count the near-duplicate matches touching the sources, by review status."""
    renditions = Copy.objects.filter(
        source__in=sources, state=Copy.State.PRESENT, rendition__isnull=False
    ).values("rendition_id")
    counts = dict(
        Match.objects.filter(Q(rendition_a__in=renditions) | Q(rendition_b__in=renditions))
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {status: counts.get(status, 0) for status in ("proposed", "confirmed", "rejected")}


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
