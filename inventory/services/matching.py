"""Near-duplicate matching: candidates for new renditions, verification, matches, assets."""

from __future__ import annotations

import logging
import math
import os
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from multiprocessing import get_context
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Min, QuerySet
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.chunks import chunked
from governance.models import AuditEvent, User
from inventory.models import Asset, Copy, Match, Rendition, Scan, ScanError
from inventory.pairs.index import hex_distance, unpack_hashes
from inventory.pairs.pairing import (
    Candidate,
    FingerprintRows,
    VerifyJob,
    VerifyResult,
    find_candidates,
    verify_jobs,
)
from inventory.pairs.placement import place_renditions
from inventory.pairs.verification import RenditionInfo, Verdict
from inventory.services.grouping import assets_regroup
from inventory.services.scan_paths import thumbnail_dir

logger = logging.getLogger(__name__)
_VERIFY_CHUNK = 64
_CHUNK = 1000
_EVENT_FIELDS = ("rendition_a", "rendition_b", "tier", "relation", "score", "distance", "original")


@dataclass(frozen=True, slots=True)
class Unverified:
    """A rendition a candidate pair could not be verified for, and why."""

    rendition: int
    other: int
    error: str


@dataclass(slots=True)
class MatchingOutcome:
    """What one matching run did."""

    new_renditions: int = 0
    candidates: int = 0
    verified: int = 0  # verifications run (at most a few per new rendition)
    probable: int = 0
    possible: int = 0
    not_same: int = 0
    failed: int = 0
    # Pairs that could not be verified, by the rendition at fault; an error, never "not same".
    unverified: list[Unverified] = field(default_factory=list)


def _json_safe(value: Any) -> Any:
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


def _jobs(
    candidates: list[Candidate], renditions: dict[int, Rendition], sizes: dict[int, int]
) -> tuple[list[VerifyJob], list[VerifyResult]]:
    """Return the jobs to verify, and the pairs that cannot be: a side has no thumbnail."""
    root = thumbnail_dir()
    jobs = []
    missing = []
    for c in candidates:
        ra, rb = renditions.get(c.a), renditions.get(c.b)
        if ra is None or rb is None:
            continue  # removed since the candidates were found
        if not ra.thumbnail or not rb.thumbnail:
            lacking = c.a if not ra.thumbnail else c.b
            missing.append(VerifyResult(c.a, c.b, None, "no thumbnail was written for it", lacking))
            continue
        jobs.append(VerifyJob(
            a=c.a, b=c.b,
            thumb_a=str(root / ra.thumbnail), thumb_b=str(root / rb.thumbnail),
            info_a=_info(ra, sizes.get(c.a, 0)), info_b=_info(rb, sizes.get(c.b, 0)),
            hint=c.hint, probe_is_a=c.probe_is_a,
        ))  # fmt: skip
    return jobs, missing


def _forget_thumbnails(rendition_ids: set[int]) -> None:
    """Drop unreadable thumbnails, so the next scan examines their files again and rewrites
    them (thumbnails are Provena's own files, never evidence)."""
    root = thumbnail_dir()
    for rendition in Rendition.objects.filter(pk__in=rendition_ids).exclude(thumbnail=""):
        (root / rendition.thumbnail).unlink(missing_ok=True)
    Rendition.objects.filter(pk__in=rendition_ids).update(thumbnail="")


def _verify(jobs: list[VerifyJob], workers: int) -> Iterator[VerifyResult]:
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


def match_event(match: Match, source_id: int | None, user: User | None = None) -> EventSpec:
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
    """Place the renditions not yet matched among all others and regroup the assets.

    Each new rendition is verified against the groups its candidates belong to, closest
    first, and stops at the first that takes it (inventory.pairs.placement.place_renditions); the
    first verification of every new rendition runs on `workers` processes.
    """
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
    by_pair = {(c.a, c.b): c for c in candidates if c.a in renditions and c.b in renditions}
    partners: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b in by_pair:
        if a in new_ids:
            partners[a].append((b, by_pair[(a, b)].distance))
        if b in new_ids:
            partners[b].append((a, by_pair[(a, b)].distance))
    # The likeliest originals first, by the evidence the master rule and lineage use: the
    # earliest capture, then the oldest file, then the larger picture. Copies are then
    # verified against their original rather than against one another, so each one's
    # relation can be stated against its parent (an upscale or bordered copy is larger than
    # its original but never older; largest-first made it every copy's partner).
    oldest = dict(
        Copy.objects.filter(rendition__in=involved)
        .values("rendition").annotate(t=Min("mtime_ns")).values_list("rendition", "t")
    )  # fmt: skip

    def likely_original_first(r: int) -> tuple:
        rendition = renditions[r]
        captured = rendition.capture_time
        return (
            captured is None,
            captured.timestamp() if captured is not None else 0.0,
            oldest.get(r, math.inf),
            -(rendition.width * rendition.height),
            r,
        )

    order = sorted(partners, key=likely_original_first)
    groups = {rid: r.asset_id for rid, r in renditions.items() if rid not in new_ids and r.asset_id}
    masters = dict(
        Asset.objects.filter(pk__in=set(groups.values()), master_rendition__isnull=False)
        .values_list("pk", "master_rendition_id")
    )  # fmt: skip
    workers = workers or os.cpu_count() or 1
    failures: dict[tuple[int, int], VerifyResult] = {}

    def verify(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], Verdict | None]:
        wanted = {(min(pair), max(pair)): pair for pair in pairs}
        jobs, without_thumbnail = _jobs([by_pair[key] for key in wanted], renditions, sizes)
        found: dict[tuple[int, int], Verdict | None] = dict.fromkeys(pairs)
        for result in chain(without_thumbnail, _verify(jobs, workers)):
            if result.verdict is None:
                failures[(result.a, result.b)] = result
            found[wanted[(result.a, result.b)]] = result.verdict
        return found

    placement = place_renditions(order, partners, groups=groups, masters=masters, verify=verify)
    outcome.verified = len(placement.verified)
    new_matches = []
    unreadable: set[int] = set()
    retry: set[int] = set()  # new renditions left unmatched, so the next run tries again
    for r, p, verdict in placement.verified:
        a, b = min(r, p), max(r, p)
        if verdict is None:
            result = failures[(a, b)]
            outcome.failed += 1
            at_fault = result.unreadable if result.unreadable is not None else a
            outcome.unverified.append(
                Unverified(rendition=at_fault, other=b if at_fault == a else a, error=result.error)
            )
            if result.unreadable is not None:
                unreadable.add(result.unreadable)
            retry |= {a, b} & new_ids
            logger.error("could not verify renditions %s and %s: %s", a, b, result.error)
            continue
        if verdict.tier is None:
            outcome.not_same += 1
            continue
        assert verdict.relation is not None  # a verdict with a tier names its relation
        setattr(outcome, verdict.tier, getattr(outcome, verdict.tier) + 1)
        new_matches.append(Match(
            rendition_a_id=a, rendition_b_id=b, tier=verdict.tier, relation=verdict.relation,
            score=round(float(verdict.score), 4) if math.isfinite(verdict.score) else 0.0,
            distance=min(by_pair[(a, b)].distance,
                         hex_distance(renditions[a].phash, renditions[b].phash)),
            original=verdict.original or "", evidence=_json_safe(verdict.evidence),
        ))  # fmt: skip
    with transaction.atomic():
        since_pk = Match.objects.aggregate(top=Max("pk"))["top"] or 0
        Match.objects.bulk_create(new_matches, ignore_conflicts=True)
        _record_matched(new_matches, since_pk)
        for chunk in chunked(sorted(new_ids - retry), _CHUNK):
            Rendition.objects.filter(pk__in=chunk).update(matched_at=timezone.now())
        _forget_thumbnails(unreadable)
        assets_regroup()
    return outcome


def _paths_by_rendition(copies: QuerySet[Copy]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for rendition_id, path in copies.order_by("path").values_list("rendition_id", "path"):
        found.setdefault(rendition_id, []).append(path)
    return found


@transaction.atomic
def unverified_record(*, scan: Scan, unverified: list[Unverified]) -> int:
    """Record the pairs matching could not verify as errors of the scan; return how many.

    Each error sits on a file of the scan's source: the files of the rendition whose
    thumbnail failed, or else the files it was to be compared with.
    """
    if not unverified:
        return 0
    at_fault: dict[int, list[Unverified]] = {}
    for item in unverified:
        at_fault.setdefault(item.rendition, []).append(item)
    involved = set(at_fault) | {item.other for item in unverified}
    present = Copy.objects.filter(rendition__in=involved, state=Copy.State.PRESENT)
    here = _paths_by_rendition(present.filter(source=scan.source))
    elsewhere = {
        rid: f"{name}:{path}"
        for rid, name, path in present.exclude(source=scan.source)
        .order_by("-pk")
        .values_list("rendition_id", "source__name", "path")
    }
    errors: dict[str, str] = {}
    for rendition_id, items in at_fault.items():
        if rendition_id in here:
            text = (
                f"not compared with {len(items)} possible near-duplicate(s): {items[0].error}. "
                "Scan again to write its thumbnail and compare it"
            )
            for path in here[rendition_id]:
                errors.setdefault(path, text)
            continue
        for item in items:
            text = (
                f"not compared with a possible near-duplicate, "
                f"{elsewhere.get(rendition_id, f'rendition {rendition_id}')}: {item.error}. "
                "Scan that file's source again to write its thumbnail and compare them"
            )
            for path in here.get(item.other, []):
                errors.setdefault(path, text)
    ScanError.objects.bulk_create(
        [ScanError(scan=scan, path=path, error=text) for path, text in sorted(errors.items())]
    )
    Scan.objects.filter(pk=scan.pk).update(errors=F("errors") + len(errors))
    return len(errors)
