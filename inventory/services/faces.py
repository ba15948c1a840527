"""The face pass: find faces once per unique rendition and record them (docs/privacy.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.chunks import chunked
from governance.models import AuditEvent
from inventory.imaging.faces import FacePolicy, FaceResult, examine_faces_batch, gps_position
from inventory.models import Copy, Face, Rendition
from inventory.services.face_carry import FacePlan, faces_carry, faces_plan, faces_uncarry_strays
from inventory.storage.local import LocalStore

logger = logging.getLogger(__name__)

_BATCH = 16
_CHUNK = 500

FACE_PASS_TASK = "inventory.tasks.face_pass_batch"


@dataclass(slots=True)
class FacePassResult:
    """What one face pass did."""

    renditions: int = 0  # checked: detected or carried
    with_faces: int = 0
    identifiable: int = 0
    failed: int = 0
    seconds: float = 0.0
    detected: int = 0  # decoded and searched by the detector
    carried: int = 0  # faces carried from the photograph's largest rendition, no decode
    photographs: int = 0  # assets (or lone renditions) among the checked renditions


def face_policy() -> FacePolicy:
    """Return the face policy the settings describe."""
    return FacePolicy(
        model=settings.PROVENA_FACE_MODEL,
        decode_side=settings.PROVENA_FACE_DECODE_SIDE,
        min_face_px=settings.PROVENA_FACE_MIN_PX,
        min_score=settings.PROVENA_FACE_MIN_SCORE,
        encodings=settings.PROVENA_FACE_ENCODINGS,
    )


def renditions_awaiting_faces(*, policy: FacePolicy, among: list[int] | None = None) -> list[int]:
    """Return the ids of renditions never checked, or checked under other detection settings."""
    renditions = (
        Rendition.objects.all() if among is None else Rendition.objects.filter(pk__in=among)
    )
    return list(
        renditions.filter(Q(faces_checked_at__isnull=True) | ~Q(face_policy=policy.key))
        .filter(copies__state=Copy.State.PRESENT)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def _jobs(rendition_ids: list[int]) -> list[tuple[int, str]]:
    """Return (rendition id, absolute path of one present copy) for each rendition."""
    jobs: dict[int, str] = {}
    rows = (
        Copy.objects.filter(rendition_id__in=rendition_ids, state=Copy.State.PRESENT)
        .order_by("rendition_id", "pk")
        .values_list("rendition_id", "source__root", "path")
    )
    stores: dict[str, LocalStore] = {}
    for rendition_id, root, path in rows:
        store = stores.setdefault(root, LocalStore(root))
        jobs.setdefault(rendition_id, str(store.local_path(path)))
    return list(jobs.items())


def _examine(
    batches: list[list[tuple[int, str]]], policy: FacePolicy, workers: int
) -> Iterator[list[tuple[int, FaceResult]]]:
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            yield examine_faces_batch(batch, policy)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: set[Future] = set()
        for batch in batches:
            pending.add(pool.submit(examine_faces_batch, batch, policy))
            if len(pending) >= workers * 2:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        for future in pending:
            yield future.result()


@transaction.atomic
def faces_record(*, results: list[tuple[int, FaceResult]], policy: FacePolicy) -> list[EventSpec]:
    """Replace the faces of each rendition with what the pass found; return audit events."""
    from governance.encryption import encoding_encrypt

    now = timezone.now()
    ids = [rid for rid, _ in results]
    Face.objects.filter(rendition_id__in=ids).delete()
    renditions = Rendition.objects.in_bulk(ids)
    faces: list[Face] = []
    events: list[EventSpec] = []
    for rendition_id, result in results:
        rendition = renditions.get(rendition_id)
        if rendition is None:
            continue
        identifiable = 0
        for found in result.faces:
            is_person = policy.is_identifiable(size=found.size, score=found.score)
            identifiable += is_person
            faces.append(
                Face(
                    rendition_id=rendition_id,
                    left=found.left,
                    top=found.top,
                    width=found.width,
                    height=found.height,
                    score=found.score,
                    identifiable=is_person,
                    encoding=encoding_encrypt(found.encoding) if found.encoding else None,
                )
            )
        signals: dict = {}
        gps = gps_position(rendition.metadata or {})
        if gps:
            signals["gps"] = gps
        if result.names:
            signals["names"] = result.names
        rendition.faces_checked_at = now
        rendition.face_policy = policy.key
        rendition.face_problem = result.problem
        rendition.identifiable_faces = min(identifiable, 32767)
        rendition.personal_signals = signals
        rendition.faces_carried_from = None  # looked at itself
        if identifiable or signals:
            events.append(
                EventSpec(
                    event_type=AuditEvent.EventType.PERSONAL_DATA_FOUND,
                    object_type="rendition",
                    object_id=rendition_id,
                    outcome=AuditEvent.Outcome.WARNING,
                    detail={
                        "identifiable_faces": identifiable,
                        "faces": len(result.faces),
                        "gps": bool(gps),
                        "named_people": len(result.names),
                        "policy": policy.key,
                    },
                )
            )
    Face.objects.bulk_create(faces, batch_size=_CHUNK)
    Rendition.objects.bulk_update(
        list(renditions.values()),
        [
            "faces_checked_at",
            "face_policy",
            "face_problem",
            "identifiable_faces",
            "personal_signals",
            "faces_carried_from",
        ],
        batch_size=_CHUNK,
    )
    return events


def faces_run(
    *,
    workers: int | None = None,
    rendition_ids: list[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    detect_only: bool = False,
) -> FacePassResult:
    """Run the face pass over renditions not yet checked under the current settings.

    Once per photograph (inventory.services.face_carry): the largest rendition of each asset
    is decoded and searched, the others get its faces carried through their registrations;
    detect_only (a worker given its share by the coordinator) searches every one given.
    """
    started = time.perf_counter()
    policy = face_policy()
    if policy.encodings:
        from governance.encryption import _cipher

        _cipher()  # fail before any work when the key is missing
    if not detect_only:
        faces_uncarry_strays()
    pending = renditions_awaiting_faces(policy=policy, among=rendition_ids)
    outcome = FacePassResult()
    if not pending:
        return outcome
    plan = FacePlan(detect=pending) if detect_only else faces_plan(pending=pending, policy=policy)
    outcome.photographs = _photographs(pending)
    jobs = _jobs(plan.detect)
    batches = [list(batch) for batch in chunked(jobs, _BATCH)]
    for results in _examine(batches, policy, workers or 1):
        events = faces_record(results=results, policy=policy)
        if events:
            audit_record_many(events)
        for _, result in results:
            outcome.renditions += 1
            outcome.detected += 1
            outcome.with_faces += bool(result.faces)
            outcome.identifiable += any(
                policy.is_identifiable(size=f.size, score=f.score) for f in result.faces
            )
            outcome.failed += bool(result.problem)
        if progress:
            progress(outcome.renditions, len(jobs) + len(plan.carry))
    _carry_into(outcome, plan, policy)
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def _carry_into(outcome: FacePassResult, plan: FacePlan, policy: FacePolicy) -> None:
    """Carry faces as planned and add what that found to the outcome."""
    outcome.carried = faces_carry(carry=plan.carry, policy=policy)
    carried = Rendition.objects.filter(pk__in=list(plan.carry), faces_carried_from__isnull=False)
    outcome.renditions += outcome.carried
    outcome.with_faces += carried.filter(faces__isnull=False).distinct().count()
    outcome.identifiable += carried.filter(identifiable_faces__gt=0).count()


def _photographs(rendition_ids: list[int]) -> int:
    """Return how many photographs the renditions are of (a lone rendition counts as one)."""
    assets: set[int] = set()
    lone = 0
    for chunk in chunked(rendition_ids, _CHUNK):
        for asset_id in Rendition.objects.filter(pk__in=chunk).values_list("asset_id", flat=True):
            if asset_id is None:
                lone += 1
            else:
                assets.add(asset_id)
    return len(assets) + lone


@transaction.atomic
def faces_reclassify() -> int:
    """Apply the current identifiable-person rule to stored faces; return renditions changed."""
    policy = face_policy()
    detected = Face.objects.filter(carried=False)
    detected.update(identifiable=False)
    detected.filter(height__gte=policy.min_face_px, width__gte=policy.min_face_px).filter(
        score__gte=policy.min_score
    ).update(identifiable=True)
    # Carried faces follow the face they were carried from, however small they are here.
    faces_carry(
        carry=dict(
            Rendition.objects.filter(faces_carried_from__isnull=False).values_list(
                "pk", "faces_carried_from_id"
            )
        ),
        policy=policy,
    )
    changed = 0
    counts: dict[int, int] = {}
    for rendition_id in Face.objects.filter(identifiable=True).values_list(
        "rendition_id", flat=True
    ):
        counts[rendition_id] = counts.get(rendition_id, 0) + 1
    for rendition in Rendition.objects.filter(
        Q(identifiable_faces__gt=0) | Q(pk__in=list(counts))
    ).only("pk", "identifiable_faces"):
        new = counts.get(rendition.pk, 0)
        if new != rendition.identifiable_faces:
            Rendition.objects.filter(pk=rendition.pk).update(identifiable_faces=new)
            changed += 1
    return changed


def faces_distribute(*, stale_seconds: float, poll_seconds: float = 0.5) -> FacePassResult:
    """Queue the face pass as Celery tasks and wait for the workers to finish it.

    Renditions left when the workers make no progress for stale_seconds are not an error:
    they stay unchecked and the next pass (or `manage.py face_pass`) takes them.
    """
    started = time.perf_counter()
    policy = face_policy()
    faces_uncarry_strays()
    everything = renditions_awaiting_faces(policy=policy)
    plan = faces_plan(pending=everything, policy=policy)
    pending = plan.detect
    outcome = FacePassResult()
    for batch in chunked(pending, _BATCH):
        # Sent by name: the tasks module is an entry point over this one, never imported by it.
        current_app.send_task(FACE_PASS_TASK, args=(list(batch),))
    remaining, last_change = len(pending), time.monotonic()
    while remaining:
        time.sleep(poll_seconds)
        now_left = len(renditions_awaiting_faces(policy=policy, among=pending))
        if now_left != remaining:
            remaining, last_change = now_left, time.monotonic()
        elif time.monotonic() - last_change > stale_seconds:
            logger.warning("face pass: %s renditions left for the next pass", remaining)
            break
    checked = Rendition.objects.filter(pk__in=pending, face_policy=policy.key)
    outcome.renditions = outcome.detected = checked.count()
    outcome.identifiable = checked.filter(identifiable_faces__gt=0).count()
    outcome.with_faces = checked.filter(faces__isnull=False).distinct().count()
    outcome.failed = checked.exclude(face_problem="").count()
    outcome.photographs = _photographs(everything)
    _carry_into(outcome, plan, policy)
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome
