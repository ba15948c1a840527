"""Reclaimable storage: one definition for the scan summary, pages, API, export and reports.

A rendition is one picture; its byte copies and pixel copies (same pixels, other bytes) are
files of that one picture. Of each rendition one present copy is kept: a person's chosen
master copy for the master's rendition, otherwise the first under the master rule's
copy-level criteria (authoritative source, oldest file, then source name and path). Every
other present copy of the rendition is redundant, and its bytes are reclaimable.

Retired renditions (a newer version supersedes them) are a separate figure, never called
reclaimable: the bytes of their kept copies (their redundant copies already count above).
Derivatives (crops, resizes, edits) are distinct holdings and never count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from inventory.master_rule import Candidate, master_key
from inventory.models import Asset, Copy, Source, Supersession


@dataclass(frozen=True, slots=True)
class HeldCopy:
    """What the keep rule reads of one present copy."""

    pk: int
    rendition_id: int
    asset_id: int | None
    size: int
    source_id: int
    source_name: str
    authoritative: bool
    mtime_ns: int
    path: str

    @classmethod
    def of(cls, copy: Copy) -> HeldCopy:
        """Describe a copy (its source and rendition loaded)."""
        rendition = copy.rendition
        if rendition is None:
            raise ValueError(f"copy {copy.pk} could not be read: it holds no picture to keep")
        return cls(
            pk=copy.pk,
            rendition_id=rendition.pk,
            asset_id=rendition.asset_id,
            size=copy.size,
            source_id=copy.source_id,
            source_name=copy.source.name,
            authoritative=copy.source.authoritative,
            mtime_ns=copy.mtime_ns,
            path=copy.path,
        )


def _keep_key(copy: HeldCopy) -> tuple:
    # Copies of one rendition tie on every rendition criterion (area, capture, metadata,
    # lineage), so the master rule orders them by its copy criteria alone.
    candidate = Candidate(
        authoritative=copy.authoritative,
        area=0,
        derivative=False,
        capture_ts=None,
        mtime_ns=copy.mtime_ns,
        metadata_fields=0,
        retired=False,
        source_name=copy.source_name,
        path=copy.path,
    )
    return master_key(candidate, settings.PROVENA_MASTER_RULE)


def kept_copies(copies: Iterable[HeldCopy], *, chosen_copy_ids: set[int]) -> dict[int, int]:
    """Return the kept copy of each rendition (rendition id -> copy id) among present copies.

    chosen_copy_ids: copies people chose as masters; such a copy is kept for its rendition.
    """
    by_rendition: dict[int, list[HeldCopy]] = defaultdict(list)
    for copy in copies:
        by_rendition[copy.rendition_id].append(copy)
    kept = {}
    for rendition_id, held in by_rendition.items():
        chosen = [c for c in held if c.pk in chosen_copy_ids]
        kept[rendition_id] = (chosen or sorted(held, key=_keep_key))[0].pk
    return kept


def retired_rendition_ids(rendition_ids: Iterable[int] | None = None) -> set[int]:
    """Return the renditions a newer version of the same asset supersedes."""
    supersessions = Supersession.objects.filter(
        older__asset__isnull=False, older__asset=F("newer__asset"), withdrawn_at__isnull=True
    )
    if rendition_ids is not None:
        supersessions = supersessions.filter(older__in=list(rendition_ids))
    return set(supersessions.values_list("older_id", flat=True))


@dataclass(slots=True)
class Stored:
    """A number of files and their bytes."""

    copies: int = 0
    bytes: int = 0

    def add(self, size: int) -> None:
        self.copies += 1
        self.bytes += size


@dataclass(slots=True)
class ReclaimableStorage:
    """Redundant byte/pixel copies (reclaimable) and retired versions (a separate figure),
    in total, by the source where the file lives and by asset."""

    reclaimable: Stored = field(default_factory=Stored)
    retired: Stored = field(default_factory=Stored)
    reclaimable_by_source: dict[int, Stored] = field(default_factory=lambda: defaultdict(Stored))
    retired_by_source: dict[int, Stored] = field(default_factory=lambda: defaultdict(Stored))
    reclaimable_by_asset: dict[int, Stored] = field(default_factory=lambda: defaultdict(Stored))
    redundant_copy_ids: set[int] = field(default_factory=set)

    @property
    def reclaimable_bytes(self) -> int:
        return self.reclaimable.bytes

    @property
    def retired_bytes(self) -> int:
        return self.retired.bytes


_FIELDS = ("pk", "rendition_id", "rendition__asset_id", "size", "source_id", "source__name",
           "source__authoritative", "mtime_ns", "path")  # fmt: skip


def reclaimable_storage(
    *,
    sources: Iterable[Source] | QuerySet[Source] | None = None,
    counted: QuerySet[Copy] | None = None,
) -> ReclaimableStorage:
    """Return the redundant and retired storage of the copies in these sources (all: None).

    counted narrows which files count (e.g. those first seen in a report's period); the kept
    copy is chosen among all present copies wherever they live.
    """
    present = Copy.objects.filter(state=Copy.State.PRESENT, rendition__isnull=False)
    held_twice = (
        present.order_by().values("rendition").annotate(n=Count("id")).filter(n__gt=1)
    ).values("rendition")
    retired = retired_rendition_ids()
    renditions = Q(rendition__in=held_twice) | Q(rendition__in=retired)
    scoped = present
    if sources is not None:
        source_ids = [s.pk for s in sources]
        scoped = present.filter(source__in=source_ids)
        renditions &= Q(rendition__in=scoped.values("rendition"))
    rows = [
        HeldCopy(*row) for row in present.filter(renditions).values_list(*_FIELDS).iterator(10_000)
    ]
    assets = {c.asset_id for c in rows if c.asset_id is not None}
    chosen = set(
        Asset.objects.filter(pk__in=assets, master_copy__isnull=False).values_list(
            "master_copy_id", flat=True
        )
    )
    kept = kept_copies(rows, chosen_copy_ids=chosen)
    in_scope = None
    if counted is not None or sources is not None:
        narrowed = counted if counted is not None else scoped
        if counted is not None and sources is not None:
            narrowed = narrowed.filter(source__in=source_ids)
        in_scope = set(narrowed.filter(renditions).values_list("pk", flat=True))
    figures = ReclaimableStorage()
    for copy in rows:
        if in_scope is not None and copy.pk not in in_scope:
            continue
        if kept[copy.rendition_id] != copy.pk:
            figures.reclaimable.add(copy.size)
            figures.reclaimable_by_source[copy.source_id].add(copy.size)
            if copy.asset_id is not None:
                figures.reclaimable_by_asset[copy.asset_id].add(copy.size)
            figures.redundant_copy_ids.add(copy.pk)
        elif copy.rendition_id in retired:
            figures.retired.add(copy.size)
            figures.retired_by_source[copy.source_id].add(copy.size)
    return figures
