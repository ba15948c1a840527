"""Record one examined batch of files: renditions, copies, errors, counters and audit events."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent
from inventory.imaging.examine import Examination, ImageFacts
from inventory.imaging.fingerprints import Fingerprints
from inventory.models import Copy, Rendition, Scan, ScanBatch, ScanError
from inventory.pairs.index import pack_hashes


def _capture_time(metadata: dict) -> datetime | None:
    value = metadata.get("capture_time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        # EXIF times carry no zone; the organisation's zone is the best guess.
        parsed = timezone.make_aware(parsed)
    return parsed


def _rendition_from(facts: ImageFacts) -> Rendition:
    return Rendition(
        pixel_hash=facts.pixel_hash,
        format=facts.format,
        width=facts.width,
        height=facts.height,
        mode=facts.mode,
        has_icc_profile=facts.has_icc_profile,
        frame_count=facts.frame_count,
        orientation=facts.orientation,
        metadata=facts.metadata,
        capture_time=_capture_time(facts.metadata),
        phash=facts.phash or "",
        dhash=facts.dhash or "",
        fingerprint_note=facts.fingerprint_note,
        thumbnail=facts.thumbnail or "",
        **_fingerprint_fields(facts.fingerprints),
    )


def _fingerprint_fields(fingerprints: Fingerprints | None) -> dict:
    """Return the packed index keys and probes; the global pHash leads both."""
    if fingerprints is None:
        return {}
    keys = [("global", fingerprints.phash), *fingerprints.keys]
    probes = [("global", fingerprints.phash), *fingerprints.probes]
    return {
        "fp_keys": pack_hashes(value for _, value in keys),
        "fp_key_codes": ",".join(code for code, _ in keys),
        "fp_probes": pack_hashes(value for _, value in probes),
        "fp_probe_codes": ",".join(code for code, _ in probes),
    }


def _renditions_for(examinations: list[Examination]) -> tuple[dict[str, int], set[str]]:
    """Return rendition ids by pixel hash and the hashes of the renditions created now."""
    facts = {e.image.pixel_hash: e.image for e in examinations if e.image is not None}
    if not facts:
        return {}, set()
    existing = set(
        Rendition.objects.filter(pixel_hash__in=facts).values_list("pixel_hash", flat=True)
    )
    # Sorted, so two batches inserting overlapping renditions lock them in the same order.
    new = [_rendition_from(facts[h]) for h in sorted(facts) if h not in existing]
    # Another worker may create the same rendition at the same moment: ignore, then re-read.
    Rendition.objects.bulk_create(new, ignore_conflicts=True)
    # A known picture whose thumbnail was lost gets the one this examination wrote.
    for pixel_hash in Rendition.objects.filter(
        pixel_hash__in=[h for h in existing if facts[h].thumbnail], thumbnail=""
    ).values_list("pixel_hash", flat=True):
        Rendition.objects.filter(pixel_hash=pixel_hash, thumbnail="").update(
            thumbnail=facts[pixel_hash].thumbnail
        )
    ids = dict(Rendition.objects.filter(pixel_hash__in=facts).values_list("pixel_hash", "id"))
    return ids, {r.pixel_hash for r in new}


@transaction.atomic
def scan_record_batch(
    *, scan: Scan, examinations: list[Examination], batch_index: int | None = None
) -> bool:
    """Record a batch atomically and mark its ScanBatch done; return whether it was recorded.

    Nothing is recorded (no rows, counters or events) when the batch is already done or the
    scan is no longer running, so running a batch twice changes nothing the second time.
    """
    now = timezone.now()
    # Batches of one scan record one at a time (workers examine in parallel): moved-file
    # detection and the counters need it, and the audit chain serialises them anyway.
    status = (
        Scan.objects.select_for_update().filter(pk=scan.pk).values_list("status", flat=True).first()
    )
    if status != Scan.Status.RUNNING:
        return False
    if batch_index is not None:
        claimed = ScanBatch.objects.filter(
            scan=scan, index=batch_index, status=ScanBatch.Status.PENDING
        ).update(
            status=ScanBatch.Status.DONE,
            finished_at=now,
            attempts=Greatest(F("attempts"), 1),
        )
        if not claimed:
            return False
    source = scan.source
    rendition_ids, new_renditions = _renditions_for(examinations)
    paths = [e.path for e in examinations]
    by_path = {c.path: c for c in Copy.objects.filter(source=source, path__in=paths)}
    # A missing copy whose own path is in this batch came back there; it moved nowhere.
    moved_from = _missing_by_sha256(
        source_id=source.pk,
        sha256s={e.sha256 for e in examinations if e.path not in by_path},
        exclude={c.pk for c in by_path.values()},
    )
    new_copies: list[Copy] = []
    updated: list[Copy] = []
    errors: list[ScanError] = []
    counts = {"new": 0, "changed": 0, "moved": 0, "unchanged": 0}
    recorded: list[tuple[Copy, Examination, dict]] = []  # what each audit event says
    for exam in examinations:
        if exam.error:
            errors.append(ScanError(scan=scan, path=exam.path, error=exam.error))
        if exam.size is None or exam.mtime_ns is None:
            continue  # gone between the walk and the read: nothing to inventory
        rendition_id = rendition_ids.get(exam.image.pixel_hash) if exam.image else None
        copy = by_path.get(exam.path)
        change: dict = {}
        if copy is None and exam.sha256:
            copy = _moved_copy(moved_from, exam.sha256)
            if copy is not None:
                counts["moved"] += 1
                change["moved_from"] = copy.path
                copy.path = exam.path
        if copy is None:
            counts["new"] += 1
            change["discovered"] = True
            copy = Copy(
                source=source,
                path=exam.path,
                first_seen_at=now,
                first_seen_scan=scan,
            )
            new_copies.append(copy)
        else:
            if copy.last_seen_scan_id == scan.pk and copy.sha256 == exam.sha256:
                continue  # this batch already ran (a retry): nothing to do
            if copy.path == exam.path and copy.sha256 and copy.sha256 != exam.sha256:
                counts["changed"] += 1
                change["previous_sha256"] = copy.sha256
            elif copy.path == exam.path:
                counts["unchanged"] += 1
            updated.append(copy)
        copy.size = exam.size
        copy.mtime_ns = exam.mtime_ns
        copy.sha256 = exam.sha256 or ""
        copy.rendition_id = rendition_id
        copy.problem = exam.error or ""
        copy.state = Copy.State.PRESENT
        copy.missing_since = None
        copy.last_seen_at = now
        copy.last_seen_scan = scan
        recorded.append((copy, exam, change))
    Copy.objects.bulk_create(new_copies)
    Copy.objects.bulk_update(
        updated,
        [
            "path",
            "size",
            "mtime_ns",
            "sha256",
            "rendition",
            "problem",
            "state",
            "missing_since",
            "last_seen_at",
            "last_seen_scan",
        ],
    )
    ScanError.objects.bulk_create(errors)
    # In the batch's transaction: a killed batch leaves no events, a retried one adds none.
    audit_record_many(_events_for(scan, recorded, rendition_ids, new_renditions))
    Scan.objects.filter(pk=scan.pk).update(
        files_examined=F("files_examined") + len(examinations),
        files_new=F("files_new") + counts["new"],
        files_changed=F("files_changed") + counts["changed"],
        files_unchanged=F("files_unchanged") + counts["unchanged"],
        files_moved=F("files_moved") + counts["moved"],
        errors=F("errors") + len(errors),
        heartbeat_at=now,
    )
    return True


def _events_for(
    scan: Scan,
    recorded: list[tuple[Copy, Examination, dict]],
    rendition_ids: dict[str, int],
    new_renditions: set[str],
) -> list[EventSpec]:
    """Return discovered, fixity and metadata events for the copies this batch wrote."""
    user = scan.started_by
    source_id = scan.source_id
    types = AuditEvent.EventType
    events: list[EventSpec] = []
    extracted: set[str] = set()
    for copy, exam, change in recorded:
        base = {"path": copy.path, "scan": scan.pk}
        if change.get("discovered"):
            events.append(
                EventSpec(
                    event_type=types.DISCOVERED,
                    object_type="copy",
                    object_id=copy.pk,
                    detail={**base, "size": copy.size},
                    user=user,
                    source_id=source_id,
                )
            )
        if copy.sha256:
            fixity = {**base, "sha256": copy.sha256, "size": copy.size}
            fixity.update({k: v for k, v in change.items() if k != "discovered"})
            events.append(
                EventSpec(
                    event_type=types.FIXITY_COMPUTED,
                    object_type="copy",
                    object_id=copy.pk,
                    detail=fixity,
                    user=user,
                    source_id=source_id,
                )
            )
        facts = exam.image
        if facts is not None and facts.pixel_hash in new_renditions:
            if facts.pixel_hash in extracted:
                continue  # one extraction per new rendition, from the first copy that showed it
            extracted.add(facts.pixel_hash)
            events.append(
                EventSpec(
                    event_type=types.METADATA_EXTRACTED,
                    object_type="copy",
                    object_id=copy.pk,
                    detail={
                        **base,
                        "rendition": rendition_ids[facts.pixel_hash],
                        "pixel_hash": facts.pixel_hash,
                        "format": facts.format,
                        "width": facts.width,
                        "height": facts.height,
                        "metadata_fields": sorted(k for k, v in facts.metadata.items() if v),
                    },
                    user=user,
                    source_id=source_id,
                )
            )
    return events


def _missing_by_sha256(
    *, source_id: int, sha256s: set[str | None], exclude: set[int]
) -> dict[str, list[Copy]]:
    """Return the source's missing copies with these contents, oldest last, in one query."""
    wanted = {h for h in sha256s if h}
    found: dict[str, list[Copy]] = {}
    if not wanted:
        return found
    missing = (
        Copy.objects.filter(source_id=source_id, sha256__in=wanted, state=Copy.State.MISSING)
        .exclude(pk__in=exclude)
        .order_by("-pk")
    )
    for copy in missing:
        found.setdefault(copy.sha256, []).append(copy)
    return found


def _moved_copy(missing: dict[str, list[Copy]], sha256: str) -> Copy | None:
    """Take a missing copy with the same bytes, oldest first: the file was moved here.

    Each missing copy is taken once, so two new paths with the same bytes claim two
    different missing copies (or one claims it and the other is new).
    """
    candidates = missing.get(sha256)
    return candidates.pop() if candidates else None
