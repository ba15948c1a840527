"""Keep the asset graph true: each rendition's parent, original resolution and the rule's master.

Recomputed for the assets that changed only (a scan's new, changed or missing files, a
regroup's moved renditions, a reviewer's ruling), so the cost follows the change, not the
archive. A changed parent or a changed proposed master is recorded in the audit log; a
person's chosen master is never touched here (the asset's master_* fields).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Min, Q

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent, User
from inventory.lineage import Facts, Link, choose_parents, original_areas
from inventory.models import Asset, Copy, Match, Rendition
from inventory.selectors.assets import asset_source_id
from inventory.selectors.groups import order_for_master
from inventory.selectors.reclaimable import retired_rendition_ids

_CHUNK = 500


@dataclass(slots=True)
class LineageOutcome:
    """What one refresh changed."""

    assets: int = 0
    parents_changed: int = 0
    masters_changed: int = 0


def _links(rendition_ids: list[int]) -> list[Link]:
    """Return the joining matches among these renditions as lineage links."""
    matches = (
        Match.objects.filter(rendition_a__in=rendition_ids, rendition_b__in=rendition_ids)
        .exclude(status=Match.Status.REJECTED)
        .exclude(tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED)
        .values_list(
            "pk",
            "rendition_a_id",
            "rendition_b_id",
            "original",
            "status",
            "tier",
            "score",
            "evidence__share_a",
            "evidence__share_b",
            "relation",
        )  # fmt: skip
    )
    return [
        Link(
            match_id=pk,
            a=a,
            b=b,
            original=original or "",
            confirmed=status == Match.Status.CONFIRMED,
            probable=tier != Match.Tier.POSSIBLE,
            score=score,
            share_a=share_a if isinstance(share_a, (int, float)) else None,
            share_b=share_b if isinstance(share_b, (int, float)) else None,
            relation=relation,
        )
        for pk, a, b, original, status, tier, score, share_a, share_b, relation in matches
    ]


def _refresh_parents(
    asset_ids: list[int], forced: bool, user: User | None
) -> tuple[list[EventSpec], int]:
    renditions = list(
        Rendition.objects.filter(asset__in=asset_ids).only(
            "pk", "asset_id", "width", "height", "parent_id", "parent_match_id", "original_area",
            "capture_time", "metadata",
        )
    )  # fmt: skip
    oldest = dict(
        Copy.objects.filter(rendition__asset__in=asset_ids)
        .values("rendition")
        .annotate(oldest=Min("mtime_ns"))
        .values_list("rendition", "oldest")
    )
    by_asset: dict[int, list[Rendition]] = defaultdict(list)
    asset_of: dict[int, int] = {}
    for rendition in renditions:
        asset_id = rendition.asset_id
        assert asset_id is not None  # filtered on asset__in above
        by_asset[asset_id].append(rendition)
        asset_of[rendition.pk] = asset_id
    links_by_asset: dict[int, list[Link]] = defaultdict(list)
    for link in _links(list(asset_of)):
        if asset_of.get(link.a) == asset_of.get(link.b):
            links_by_asset[asset_of[link.a]].append(link)
    changed: list[Rendition] = []
    events = []
    for asset_id, members in by_asset.items():
        links = links_by_asset.get(asset_id, [])
        facts = {
            r.pk: Facts(
                area=r.width * r.height,
                capture_ts=r.capture_time.timestamp() if r.capture_time else None,
                metadata_fields=sum(1 for v in (r.metadata or {}).values() if v not in (None, "")),
                oldest_mtime_ns=oldest.get(r.pk),
            )
            for r in members
        }
        parents = choose_parents(facts, links)
        areas = original_areas(
            {r.pk: r.width * r.height for r in members}, parents, {k.match_id: k for k in links}
        )
        moves = []
        for rendition in members:
            parent = parents[rendition.pk]
            parent_id = parent.rendition if parent else None
            match_id = parent.match_id if parent else None
            area = areas[rendition.pk]
            if (rendition.parent_id, rendition.parent_match_id, rendition.original_area) == (
                parent_id,
                match_id,
                area,
            ):
                continue
            if rendition.parent_id != parent_id and (forced or rendition.original_area is not None):
                # Not on a rendition's first placement: its `matched` event says that.
                moves.append({"rendition": rendition.pk, "from": rendition.parent_id,
                              "to": parent_id, "match": match_id})  # fmt: skip
            rendition.parent_id, rendition.parent_match_id = parent_id, match_id
            rendition.original_area = area
            changed.append(rendition)
        if moves:
            events.append((asset_id, moves))
    Rendition.objects.bulk_update(changed, ["parent", "parent_match", "original_area"])
    return [
        EventSpec(
            event_type=AuditEvent.EventType.LINEAGE_CHANGED,
            object_type="asset",
            object_id=asset_id,
            detail={"parents": moves},
            user=user,
            source_id=asset_source_id(asset_id),
        )
        for asset_id, moves in events
    ], sum(len(moves) for _, moves in events)


def _refresh_masters(asset_ids: list[int], forced: bool, user: User | None) -> list[EventSpec]:
    """Store the rule's proposed master of each asset; return the events for changes."""
    copies = list(
        Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset__in=asset_ids)
        .select_related("source", "rendition")
        .order_by("pk")
    )
    by_asset: dict[int | None, list[Copy]] = defaultdict(list)
    for copy in copies:
        by_asset[copy.decoded_rendition.asset_id].append(copy)
    retired = retired_rendition_ids({c.decoded_rendition_id for c in copies})
    events = []
    for asset in Asset.objects.filter(pk__in=asset_ids).only("pk", "proposed_master_copy_id"):
        bucket = by_asset.get(asset.pk, [])
        order_for_master(bucket, retired=retired)
        proposed = bucket[0] if bucket else None
        proposed_id = proposed.pk if proposed else None
        if asset.proposed_master_copy_id == proposed_id:
            continue
        previous = asset.proposed_master_copy_id
        Asset.objects.filter(pk=asset.pk).update(proposed_master_copy_id=proposed_id)
        if previous is None and not forced:
            continue  # a new asset's first proposal: nothing a person read has changed
        events.append(
            EventSpec(
                event_type=AuditEvent.EventType.MASTER_SET,
                object_type="asset",
                object_id=asset.pk,
                detail={
                    "basis": "rule",
                    "previous_copy": previous,
                    "copy": proposed_id,
                    "source": proposed.source.name if proposed else None,
                    "path": proposed.path if proposed else None,
                    "rendition": proposed.rendition_id if proposed else None,
                },
                user=user,
                source_id=proposed.source_id if proposed else asset_source_id(asset.pk),
            )
        )
    return events


@transaction.atomic
def lineage_refresh(
    *, asset_ids: Iterable[int], user: User | None = None, forced: bool = False
) -> LineageOutcome:
    """Recompute parents, original resolutions and proposed masters of these assets.

    forced: record every change, first placements included (the regroup command does).
    """
    ids = sorted({pk for pk in asset_ids if pk is not None})
    outcome = LineageOutcome(assets=len(ids))
    events: list[EventSpec] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        parent_events, moved = _refresh_parents(chunk, forced, user)
        outcome.parents_changed += moved
        master_events = _refresh_masters(chunk, forced, user)
        outcome.masters_changed += len(master_events)
        events += parent_events + master_events
    audit_record_many(events)
    return outcome


def assets_of_renditions(rendition_ids: Iterable[int]) -> set[int]:
    """Return the assets holding these renditions."""
    ids = list(rendition_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 1000):
        found.update(
            Rendition.objects.filter(pk__in=ids[start : start + 1000], asset__isnull=False)
            .values_list("asset_id", flat=True)
            .distinct()
        )
    return found


def assets_touched_by_scan(*, scan_id: int, since: datetime) -> set[int]:
    """Return the assets whose files or matches changed in a scan (new, changed or missing
    copies; renditions matched or given matches since the scan's matching began)."""
    copies = Copy.objects.filter(
        Q(first_seen_scan_id=scan_id) | Q(missing_since__gte=since), rendition__isnull=False
    )
    renditions = set(copies.values_list("rendition_id", flat=True))
    renditions |= set(Rendition.objects.filter(matched_at__gte=since).values_list("pk", flat=True))
    matches = Match.objects.filter(Q(created_at__gte=since) | Q(updated_at__gte=since))
    for a, b in matches.values_list("rendition_a_id", "rendition_b_id"):
        renditions.update((a, b))
    return assets_of_renditions(renditions)
