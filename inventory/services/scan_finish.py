"""Finish a scan: assets, near-duplicate matching, the face pass, then say what changed."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.chunks import chunked
from inventory.events import ChangeKind, inventory_changed
from inventory.models import Asset, Copy, Rendition, Scan
from inventory.selectors.groups import duplicate_groups
from inventory.selectors.reclaimable import reclaimable_storage
from inventory.services.asset_upkeep import assets_check_masters
from inventory.services.faces import faces_distribute, faces_run
from inventory.services.lineage import assets_touched_by_scan, lineage_refresh
from inventory.services.matching import matching_run, unverified_record

_CHUNK = 1000


@transaction.atomic
def renditions_assign_assets() -> int:
    """Give every rendition without an asset its own new asset; return how many."""
    orphans = list(Rendition.objects.filter(asset__isnull=True).only("pk"))
    for chunk in chunked(orphans, _CHUNK):
        assets = Asset.objects.bulk_create([Asset() for _ in chunk])
        for rendition, asset in zip(chunk, assets, strict=True):
            rendition.asset = asset
        Rendition.objects.bulk_update(chunk, ["asset"])
    return len(orphans)


def scan_finish(*, scan: Scan, timings: dict, started: float) -> Scan:
    """Close the scan: assets, near-duplicate matching, group figures, counters, timings."""
    finish_started = time.perf_counter()
    renditions_assign_assets()
    matching = matching_run(workers=scan.parameters.get("workers"))
    # A pair that could not be verified is the scan's error, never a silent "not same".
    unverified_record(scan=scan, unverified=matching.unverified)
    # Copies this scan found missing or changed may have been people's chosen masters.
    assets_check_masters()
    # Parents and the rule's masters follow what changed, and only that.
    lineage = lineage_refresh(
        asset_ids=assets_touched_by_scan(scan_id=scan.pk, since=scan.started_at)
    )
    timings["lineage"] = {
        "assets": lineage.assets,
        "parents_changed": lineage.parents_changed,
        "masters_changed": lineage.masters_changed,
    }
    timings["matching_seconds"] = round(time.perf_counter() - finish_started, 3)
    timings["matching"] = {
        "new_renditions": matching.new_renditions,
        "candidates": matching.candidates,
        "verified": matching.verified,
        "probable": matching.probable,
        "possible": matching.possible,
        "not_same": matching.not_same,
        "unverifiable": matching.failed,
    }
    if settings.PROVENA_FACES:
        faces_started = time.perf_counter()
        if scan.parameters.get("runner") == "celery":
            face_pass = faces_distribute(stale_seconds=settings.PROVENA_SCAN_STALE_SECONDS)
        else:
            face_pass = faces_run(workers=scan.parameters.get("workers"))
        timings["faces_seconds"] = round(time.perf_counter() - faces_started, 3)
        timings["faces"] = {
            "renditions": face_pass.renditions,
            "with_faces": face_pass.with_faces,
            "identifiable": face_pass.identifiable,
            "unreadable": face_pass.failed,
            # Once per photograph: decoded and searched, or carried from its largest rendition.
            "photographs": face_pass.photographs,
            "detected": face_pass.detected,
            "carried": face_pass.carried,
        }
    # Remediation verifies its tasks against this scan, privacy opens cases for the people
    # found: the listeners the site names in PROVENA_INVENTORY_LISTENERS.
    timings.update(inventory_changed(kind=ChangeKind.SCAN_FINISHED, ids=[scan.source_id]))
    groups = sum(1 for _ in duplicate_groups(sources=[scan.source]))
    # Redundant byte and pixel copies held in this source (one definition everywhere).
    reclaimable = reclaimable_storage(sources=[scan.source]).reclaimable_bytes
    source_id = scan.source_id
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
