"""Near-duplicate matching: candidates for new renditions, verification, matches, assets."""

from __future__ import annotations

import logging
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.chunks import chunked
from governance.models import AuditEvent
from inventory.models import Copy, Match, Rendition
from inventory.pairs.index import hex_distance, unpack_hashes
from inventory.pairs.pairing import (
    FingerprintRows,
    VerifyJob,
    find_candidates,
    verify_jobs,
)
from inventory.pairs.verification import RenditionInfo
from inventory.services.grouping import assets_regroup
from inventory.services.scan_paths import thumbnail_dir

logger = logging.getLogger(__name__)
_VERIFY_CHUNK = 64
_CHUNK = 1000
_EVENT_FIELDS = ("rendition_a", "rendition_b", "tier", "relation", "score", "distance", "original")


@dataclass(slots=True)
class MatchingOutcome:
    """What one matching run did."""

    new_renditions: int = 0
    candidates: int = 0
    probable: int = 0
    possible: int = 0
    not_same: int = 0
    failed: int = 0


def _json_safe(value):
    """Return value with NaN and infinities replaced by None (PostgreSQL's jsonb refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _load_fingerprints() -> tuple[FingerprintRows, set[int]]:
    rows = FingerprintRows()
    new_ids: set[int] = set()
    fields = ("id", "fp_keys", "fp_key_codes", "fp_probes", "fp_probe_codes", "dhash",
              "matched_at")  # fmt: skip
    queryset = Rendition.objects.exclude(fp_keys=None).values_list(*fields)
    for rid, keys, key_codes, probes, probe_codes, dhash, matched_at in queryset.iterator(
        chunk_size=10_000
    ):
        rows.add(
            rid,
            keys=unpack_hashes(keys),
            key_codes=key_codes.split(",") if key_codes else [],
            probes=unpack_hashes(probes),
            probe_codes=probe_codes.split(",") if probe_codes else [],
            dhash=int(dhash, 16) if dhash else None,
        )
        if matched_at is None:
            new_ids.add(rid)
    return rows, new_ids


def _info(rendition: Rendition, file_size: int) -> RenditionInfo:
    metadata = rendition.metadata or {}
    capture = rendition.capture_time.isoformat() if rendition.capture_time else None
    return RenditionInfo(
        width=rendition.width,
        height=rendition.height,
        format=rendition.format,
        mode=rendition.mode,
        file_size=file_size,
        capture_time=capture,
        metadata_fields=sum(1 for v in metadata.values() if v not in (None, "")),
        orientation=rendition.orientation,
    )


def _jobs(candidates, renditions: dict[int, Rendition], sizes: dict[int, int]) -> list[VerifyJob]:
    root = thumbnail_dir()
    jobs = []
    for c in candidates:
        ra, rb = renditions.get(c.a), renditions.get(c.b)
        if ra is None or rb is None or not ra.thumbnail or not rb.thumbnail:
            continue
        jobs.append(VerifyJob(
            a=c.a, b=c.b,
            thumb_a=str(root / ra.thumbnail), thumb_b=str(root / rb.thumbnail),
            info_a=_info(ra, sizes.get(c.a, 0)), info_b=_info(rb, sizes.get(c.b, 0)),
            hint=c.hint, probe_is_a=c.probe_is_a,
        ))  # fmt: skip
    return jobs


def _verify(jobs: list[VerifyJob], workers: int):
    chunks = [list(chunk) for chunk in chunked(jobs, _VERIFY_CHUNK)]
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield from verify_jobs(chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        for results in pool.map(verify_jobs, chunks):
            yield from results


def _source_ids(rendition_ids: set[int]) -> dict[int, int]:
    """Return a source holding each rendition (its lowest-numbered), for the audit log's
    department scoping."""
    ids = sorted(rendition_ids)
    found: dict[int, int] = {}
    for chunk in chunked(ids, _CHUNK):
        found.update(
            Copy.objects.filter(rendition__in=chunk)
            .values("rendition")
            .annotate(source=Min("source"))
            .values_list("rendition", "source")
        )
    return found


def match_event(match: Match, source_id: int | None, user=None) -> EventSpec:
    """Return the `matched` event for a new match (agent: the software, unless a person made
    the match by hand)."""
    return EventSpec(
        event_type=AuditEvent.EventType.MATCHED,
        object_type="match",
        object_id=match.pk,
        detail={
            "tier": match.tier,
            "relation": match.relation,
            # The audit log refuses floats (their digits could change in the database).
            "score": f"{match.score:.4f}",
            "distance": match.distance,
            "renditions": [match.rendition_a_id, match.rendition_b_id],
            "original": match.original,
        },
        user=user,
        source_id=source_id,
    )


def _record_matched(new_matches: list[Match], since_pk: int) -> int:
    """Record one `matched` event per match this run created; return how many.

    bulk_create with ignore_conflicts sets no primary keys, so the new rows are read back:
    those above the highest id before the insert, for the pairs this run proposed.
    """
    if not new_matches:
        return 0
    pairs = {(m.rendition_a_id, m.rendition_b_id) for m in new_matches}
    fresh = Match.objects.filter(pk__gt=since_pk).only(*_EVENT_FIELDS).order_by("pk")
    created = [
        m
        for m in fresh.iterator(chunk_size=10_000)
        if (m.rendition_a_id, m.rendition_b_id) in pairs
    ]
    sources = _source_ids({m.rendition_a_id for m in created})
    return audit_record_many([match_event(m, sources.get(m.rendition_a_id)) for m in created])


def matching_run(*, workers: int | None = None) -> MatchingOutcome:
    """Match the renditions not yet matched against all others and regroup the assets."""
    outcome = MatchingOutcome()
    rows, new_ids = _load_fingerprints()
    outcome.new_renditions = len(new_ids)
    if not new_ids:
        return outcome
    known = set(Match.objects.values_list("rendition_a_id", "rendition_b_id"))
    candidates = [c for c in find_candidates(rows, new_ids) if (c.a, c.b) not in known]
    outcome.candidates = len(candidates)
    involved = {c.a for c in candidates} | {c.b for c in candidates}
    renditions = Rendition.objects.in_bulk(involved)
    sizes = dict(
        Copy.objects.filter(rendition__in=involved)
        .values("rendition").annotate(size=Max("size")).values_list("rendition", "size")
    )  # fmt: skip
    distances = {(c.a, c.b): c.distance for c in candidates}
    new_matches = []
    for a, b, verdict, error in _verify(
        _jobs(candidates, renditions, sizes), workers or os.cpu_count() or 1
    ):
        if verdict is None:
            outcome.failed += 1
            logger.warning("could not verify renditions %s and %s: %s", a, b, error)
            continue
        if verdict.tier is None:
            outcome.not_same += 1
            continue
        setattr(outcome, verdict.tier, getattr(outcome, verdict.tier) + 1)
        new_matches.append(Match(
            rendition_a_id=a, rendition_b_id=b, tier=verdict.tier, relation=verdict.relation,
            score=round(float(verdict.score), 4) if math.isfinite(verdict.score) else 0.0,
            distance=min(distances[(a, b)],
                         hex_distance(renditions[a].phash, renditions[b].phash)),
            original=verdict.original or "", evidence=_json_safe(verdict.evidence),
        ))  # fmt: skip
    with transaction.atomic():
        since_pk = Match.objects.aggregate(top=Max("pk"))["top"] or 0
        Match.objects.bulk_create(new_matches, ignore_conflicts=True)
        _record_matched(new_matches, since_pk)
        for chunk in chunked(list(new_ids), _CHUNK):
            Rendition.objects.filter(pk__in=chunk).update(matched_at=timezone.now())
        assets_regroup()
    return outcome
