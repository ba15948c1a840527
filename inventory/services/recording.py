"""Record one examined batch of files: renditions, copies, errors and counters."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.imaging import Examination, ImageFacts
from inventory.models import Copy, Rendition, Scan, ScanError


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
    )


def _renditions_for(examinations: list[Examination]) -> dict[str, int]:
    """Return rendition ids by pixel hash, creating the missing renditions."""
    facts = {e.image.pixel_hash: e.image for e in examinations if e.image is not None}
    if not facts:
        return {}
    existing = set(
        Rendition.objects.filter(pixel_hash__in=facts).values_list("pixel_hash", flat=True)
    )
    new = [_rendition_from(f) for h, f in facts.items() if h not in existing]
    # Another worker may create the same rendition at the same moment: ignore, then re-read.
    Rendition.objects.bulk_create(new, ignore_conflicts=True)
    return dict(Rendition.objects.filter(pixel_hash__in=facts).values_list("pixel_hash", "id"))


@transaction.atomic
def scan_record_batch(*, scan: Scan, examinations: list[Examination]) -> None:
    """Record a batch atomically; running it twice changes nothing the second time."""
    now = timezone.now()
    source = scan.source
    rendition_ids = _renditions_for(examinations)
    paths = [e.path for e in examinations]
    by_path = {c.path: c for c in Copy.objects.filter(source=source, path__in=paths)}
    new_copies: list[Copy] = []
    updated: list[Copy] = []
    errors: list[ScanError] = []
    counts = {"new": 0, "changed": 0, "moved": 0, "unchanged": 0}
    for exam in examinations:
        if exam.error:
            errors.append(ScanError(scan=scan, path=exam.path, error=exam.error))
        if exam.size is None or exam.mtime_ns is None:
            continue  # gone between the walk and the read: nothing to inventory
        rendition_id = rendition_ids.get(exam.image.pixel_hash) if exam.image else None
        copy = by_path.get(exam.path)
        if copy is None and exam.sha256:
            copy = _moved_copy(source_id=source.pk, sha256=exam.sha256, taken=updated)
            if copy is not None:
                counts["moved"] += 1
                copy.path = exam.path
        if copy is None:
            counts["new"] += 1
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
    Scan.objects.filter(pk=scan.pk).update(
        files_examined=F("files_examined") + len(examinations),
        files_new=F("files_new") + counts["new"],
        files_changed=F("files_changed") + counts["changed"],
        files_unchanged=F("files_unchanged") + counts["unchanged"],
        files_moved=F("files_moved") + counts["moved"],
        errors=F("errors") + len(errors),
        heartbeat_at=now,
    )


def _moved_copy(*, source_id: int, sha256: str, taken: list[Copy]) -> Copy | None:
    """Return a missing copy of the same source with the same bytes: the file was moved."""
    taken_ids = {c.pk for c in taken}
    candidates = Copy.objects.filter(
        source_id=source_id, sha256=sha256, state=Copy.State.MISSING
    ).exclude(pk__in=taken_ids)
    return candidates.order_by("pk").first()
