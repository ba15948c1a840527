"""Read per-source figures, latest scans and current errors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from inventory.models import Copy, Scan, ScanError, Source
from inventory.selectors.departments import NO_DEPARTMENT
from inventory.selectors.groups import duplicate_groups
from inventory.selectors.reclaimable import reclaimable_storage


@dataclass(slots=True)
class SourceFigures:
    """Counts, bytes and reclaimable bytes for one source."""

    source: Source
    copies: int = 0
    bytes: int = 0
    missing: int = 0
    problems: int = 0
    duplicate_copies: int = 0  # byte or pixel copies beyond the one kept of their rendition
    near_duplicate_copies: int = 0  # verified transformations (resized, cropped, ...)
    reclaimable_bytes: int = 0  # inventory.selectors.reclaimable: the one definition
    retired_copies: int = 0  # kept copies of superseded versions: never "reclaimable"
    retired_bytes: int = 0

    @property
    def department_code(self) -> str:
        department = self.source.department
        return department.code if department is not None else NO_DEPARTMENT


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
    for problem_row in problems:
        figures[problem_row["source_id"]].problems = problem_row["n"]
    storage = reclaimable_storage(sources=sources)
    for source_id, stored in storage.reclaimable_by_source.items():
        figures[source_id].duplicate_copies = stored.copies
        figures[source_id].reclaimable_bytes = stored.bytes
    for source_id, stored in storage.retired_by_source.items():
        figures[source_id].retired_copies = stored.copies
        figures[source_id].retired_bytes = stored.bytes
    for group in duplicate_groups(sources=sources):
        for member in group.members[1:]:
            holder = figures.get(member.copy.source_id)
            if holder is not None and not member.redundant:
                holder.near_duplicate_copies += 1
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
