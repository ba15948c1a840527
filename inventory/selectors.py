"""Reads over the inventory: visible sources, copies and duplicate groups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet, Sum

from governance.models import User
from governance.roles import ORGANISATION_WIDE_ROLES
from inventory.models import Copy, Scan, ScanError, Source


def sources_visible_to(*, user: User) -> QuerySet[Source]:
    """Return the sources the user may see: their department's, or all for organisation roles."""
    sources = Source.objects.select_related("department")
    if user.is_superuser or user.organisation_wide:
        return sources
    if user.groups.filter(name__in=ORGANISATION_WIDE_ROLES).exists():
        return sources
    if user.department_id is None:
        return sources.none()
    return sources.filter(department_id=user.department_id)


def copies_visible_to(*, user: User) -> QuerySet[Copy]:
    """Return the copies in the sources the user may see."""
    return Copy.objects.filter(source__in=sources_visible_to(user=user)).select_related(
        "source", "rendition"
    )


@dataclass(slots=True)
class GroupMember:
    """One copy in a duplicate group, with how it relates to the group's master copy."""

    copy: Copy
    relation: str
    tier: str
    distance: int


@dataclass(slots=True)
class DuplicateGroup:
    """The copies the inventory places with one photograph (asset)."""

    asset_id: int
    members: list[GroupMember] = field(default_factory=list)

    @property
    def master(self) -> Copy:
        return self.members[0].copy

    @property
    def reclaimable_bytes(self) -> int:
        return sum(m.copy.size for m in self.members[1:])

    @property
    def sources(self) -> list[str]:
        return sorted({m.copy.source.name for m in self.members})


def _master_key(copy: Copy) -> tuple:
    """Order copies so the likeliest master comes first (see README, "Master copy")."""
    rendition = copy.rendition
    return (
        not copy.source.authoritative,
        -(rendition.width * rendition.height),
        copy.mtime_ns,
        copy.source.name,
        copy.path,
    )


def _group_from(asset_id: int, copies: list[Copy]) -> DuplicateGroup:
    copies.sort(key=_master_key)
    master = copies[0]
    group = DuplicateGroup(asset_id=asset_id)
    group.members.append(GroupMember(copy=master, relation="master", tier="certain", distance=0))
    for copy in copies[1:]:
        relation = "exact_copy" if copy.sha256 == master.sha256 else "same_pixels"
        group.members.append(GroupMember(copy=copy, relation=relation, tier="certain", distance=0))
    return group


def duplicate_groups(
    *,
    sources: Iterable[Source] | QuerySet[Source] | None = None,
    asset_ids: list[int] | None = None,
) -> Iterator[DuplicateGroup]:
    """Yield the groups of present copies that hold the same photograph more than once."""
    present = Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset__isnull=False)
    if sources is not None:
        # A group counts when any of its copies is in scope; all its members are shown.
        in_scope = present.filter(source__in=sources).values("rendition__asset")
        present = present.filter(rendition__asset__in=in_scope)
    if asset_ids is not None:
        present = present.filter(rendition__asset__in=asset_ids)
    multi = (
        present.values("rendition__asset")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("rendition__asset")
    )
    rows = (
        present.filter(rendition__asset__in=multi)
        .select_related("source", "rendition")
        .order_by("rendition__asset_id", "pk")
    )
    current: int | None = None
    bucket: list[Copy] = []
    for copy in rows.iterator(chunk_size=5000):
        asset_id = copy.rendition.asset_id
        if asset_id != current and bucket:
            yield _group_from(current, bucket)
            bucket = []
        current = asset_id
        bucket.append(copy)
    if bucket:
        yield _group_from(current, bucket)


@dataclass(slots=True)
class SourceFigures:
    """Counts, bytes and reclaimable bytes for one source."""

    source: Source
    copies: int = 0
    bytes: int = 0
    missing: int = 0
    problems: int = 0
    duplicate_copies: int = 0
    reclaimable_bytes: int = 0


def figures_by_source(*, sources: QuerySet[Source]) -> list[SourceFigures]:
    """Return per-source figures, reclaimable bytes counted where the redundant copy lives."""
    figures = {s.pk: SourceFigures(source=s) for s in sources}
    stats = (
        Copy.objects.filter(source__in=sources)
        .values("source_id", "state")
        .annotate(n=Count("id"), total=Sum("size"))
    )
    for row in stats:
        fig = figures[row["source_id"]]
        if row["state"] == Copy.State.PRESENT:
            fig.copies += row["n"]
            fig.bytes += row["total"] or 0
        elif row["state"] == Copy.State.MISSING:
            fig.missing += row["n"]
    problems = (
        Copy.objects.filter(source__in=sources, state=Copy.State.PRESENT)
        .exclude(problem="")
        .values("source_id")
        .annotate(n=Count("id"))
    )
    for row in problems:
        figures[row["source_id"]].problems = row["n"]
    for group in duplicate_groups(sources=sources):
        for member in group.members[1:]:
            fig = figures.get(member.copy.source_id)
            if fig is not None:
                fig.duplicate_copies += 1
                fig.reclaimable_bytes += member.copy.size
    return list(figures.values())


def latest_scans(*, sources: QuerySet[Source]) -> list[Scan]:
    """Return each source's latest scan that finished."""
    scans = []
    for source in sources:
        scan = source.scans.filter(status=Scan.Status.FINISHED).first()
        if scan is not None:
            scans.append(scan)
    return scans


def current_errors(*, sources: QuerySet[Source]) -> QuerySet[ScanError]:
    """Return the errors of each source's latest finished scan: the files that need attention."""
    scan_ids = [scan.pk for scan in latest_scans(sources=sources)]
    return ScanError.objects.filter(scan_id__in=scan_ids).select_related("scan__source")
