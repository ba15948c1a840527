"""Finish a scan: give new renditions an asset and total up the duplicate groups."""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from inventory.models import Asset, Copy, Rendition, Scan
from inventory.selectors import duplicate_groups

_CHUNK = 1000


@transaction.atomic
def renditions_assign_assets() -> int:
    """Give every rendition without an asset its own new asset; return how many."""
    orphans = list(Rendition.objects.filter(asset__isnull=True).only("pk"))
    for start in range(0, len(orphans), _CHUNK):
        chunk = orphans[start : start + _CHUNK]
        assets = Asset.objects.bulk_create([Asset() for _ in chunk])
        for rendition, asset in zip(chunk, assets, strict=True):
            rendition.asset = asset
        Rendition.objects.bulk_update(chunk, ["asset"])
    return len(orphans)


def scan_finish(*, scan: Scan, timings: dict, started: float) -> Scan:
    """Close the scan: assets, group figures for its source, counters and timings."""
    finish_started = time.perf_counter()
    renditions_assign_assets()
    groups = 0
    reclaimable = 0
    source_id = scan.source_id
    for group in duplicate_groups(sources=[scan.source]):
        groups += 1
        reclaimable += sum(m.copy.size for m in group.members[1:] if m.copy.source_id == source_id)
    missing = Copy.objects.filter(
        source_id=source_id, state=Copy.State.MISSING, missing_since__gte=scan.started_at
    ).count()
    timings["finish_seconds"] = round(time.perf_counter() - finish_started, 3)
    timings["total_seconds"] = round(time.perf_counter() - started, 3)
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.Status.FINISHED,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        duplicate_groups=groups,
        reclaimable_bytes=reclaimable,
        files_missing=missing,
        timings=timings,
    )
    scan.refresh_from_db()
    return scan
