"""Reads behind reports: the figures and tables a report prints, collected once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from governance.privacy.selectors.cases import privacy_figures
from governance.remediation.selectors.dashboard import remediation_figures
from inventory.models import Copy, Match, Rendition, Scan, Source
from inventory.selectors.departments import NO_DEPARTMENT, figures_by_department
from inventory.selectors.people import renditions_showing_people
from inventory.selectors.reclaimable import reclaimable_storage
from reports.selectors.findings import TIERS, group_tier, report_findings, scans_in_scope
from reports.selectors.scope import ReportScope, filter_to_period

BYTES_PER_GB = 1_000_000_000
# The per-source figures a report rolls up by department (SourceRow's fields).
DEPARTMENT_FIGURES = ("copies", "bytes", "duplicate_copies", "reclaimable_bytes", "problems")


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

    @property
    def department_code(self) -> str:
        return self.department

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
            department=s.department.code if s.department else NO_DEPARTMENT,
            risk_tier=s.risk_tier,
            risk_tier_label=s.get_risk_tier_display(),
            authoritative=s.authoritative,
        )
        for s in sources
    }
    copies = filter_to_period(Copy.objects.filter(source__in=sources), "first_seen_at", scope)
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
        in_period = filter_to_period(
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
    department_rows = figures_by_department(rows=source_rows, figures=DEPARTMENT_FIGURES)
    cost = settings.PROVENA_STORAGE_COST_PER_GB_MONTH
    for dept in department_rows:
        dept["cost_per_year"] = round(dept["reclaimable_bytes"] / BYTES_PER_GB * cost * 12, 4)

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
