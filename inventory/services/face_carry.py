"""Faces once per photograph: detect on its largest rendition, carry the boxes to the others.

A photograph held in 18 versions was face-checked 18 times. Now the face pass looks at the
largest rendition of each asset and carries its faces onto every other rendition through
the verified registrations between them (inventory.pairs.boxes). A rendition is looked at
itself only where carrying cannot stand in for looking: it has no asset, no registration
links it to the looked-at rendition, or it shows more than that rendition does (a wider
frame: part of it was never searched).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.chunks import chunked
from governance.models import AuditEvent
from inventory.imaging.faces import FacePolicy, gps_position
from inventory.models import Asset, Copy, Face, Rendition
from inventory.pairs.boxes import Box
from inventory.selectors.assets import asset_masters
from inventory.selectors.people import (
    carry_boxes,
    registration_path,
    registration_steps,
    upright_size,
)

logger = logging.getLogger(__name__)

_CHUNK = 500
# A rendition counts as covered by the looked-at one when this share of it lies inside the
# looked-at one's frame; a wider picture is looked at itself.
COVERED = 0.97


@dataclass(slots=True)
class FacePlan:
    """Which renditions the face pass decodes, and which get their faces carried (from where)."""

    detect: list[int] = field(default_factory=list)
    carry: dict[int, int] = field(default_factory=dict)  # rendition -> the one looked at
    why: dict[int, str] = field(default_factory=dict)  # rendition -> why it is looked at itself


def _area(rendition: Rendition) -> int:
    width, height = upright_size(rendition)
    return width * height


def _covered(box: Box | None, size: tuple[int, int]) -> bool:
    if box is None:
        return False
    return box[2] * box[3] >= COVERED * size[0] * size[1]


def faces_plan(*, pending: list[int], policy: FacePolicy) -> FacePlan:
    """Return which pending renditions to decode and which to carry faces onto."""
    plan = FacePlan()
    if policy.encodings:
        # Access requests match the subject's encoding on each rendition, and an encoding
        # needs that rendition's own pixels: with encodings on, every rendition is searched.
        plan.detect = list(pending)
        plan.why = dict.fromkeys(pending, "face encodings are on")
        return plan
    pending_set = set(pending)
    by_asset: dict[int, list[int]] = {}
    for chunk in chunked(pending, _CHUNK):
        for pk, asset_id in Rendition.objects.filter(pk__in=chunk).values_list("pk", "asset_id"):
            if asset_id is None:
                plan.detect.append(pk)
                plan.why[pk] = "no photograph (asset) yet"
            else:
                by_asset.setdefault(asset_id, []).append(pk)
    masters: dict[int, int] = {}
    for chunk in chunked(list(by_asset), _CHUNK):
        for asset_id, master in asset_masters(assets=Asset.objects.filter(pk__in=chunk)).items():
            if master.copy is not None and master.copy.rendition_id is not None:
                masters[asset_id] = master.copy.rendition_id
    for asset_id, members in by_asset.items():
        renditions = {r.pk: r for r in Rendition.objects.filter(asset_id=asset_id)}
        # The looked-at rendition must be readable now, or already looked at (and not carried).
        present = set(
            Copy.objects.filter(rendition__asset_id=asset_id, state=Copy.State.PRESENT)
            .values_list("rendition_id", flat=True)
            .distinct()
        )
        usable = [
            r
            for r in renditions.values()
            if r.pk in present
            or (
                r.face_policy == policy.key
                and r.faces_checked_at is not None
                and r.faces_carried_from_id is None
            )
        ]
        if not usable:
            continue
        # The master, unless another rendition is larger (a master chosen for its source or
        # its metadata may be a smaller file); then the largest, the lowest id among equals.
        source = max(usable, key=lambda r: (_area(r), r.pk == masters.get(asset_id), -r.pk))
        if source.pk in pending_set:
            plan.detect.append(source.pk)
            plan.why[source.pk] = "the photograph's largest rendition"
        others = [pk for pk in members if pk != source.pk]
        if not others:
            continue
        steps = registration_steps(renditions)
        full = (0, 0, *upright_size(source))
        for pk in others:
            path = registration_path(steps, source.pk, pk)
            if path is None:
                plan.detect.append(pk)
                plan.why[pk] = "no registration links it to the largest rendition"
                continue
            frame = carry_boxes([full], path, slack=0.0)[0]
            if not _covered(frame, upright_size(renditions[pk])):
                plan.detect.append(pk)
                plan.why[pk] = "it shows more than the largest rendition"
                continue
            plan.carry[pk] = source.pk
    return plan


@transaction.atomic
def faces_carry(*, carry: dict[int, int], policy: FacePolicy) -> int:
    """Carry the looked-at renditions' faces onto the others; return how many were carried.

    A rendition whose source could not be looked at (its detection failed) is left
    unchecked: the next pass looks at it itself.
    """
    if not carry:
        return 0
    now = timezone.now()
    ids = set(carry) | set(carry.values())
    renditions = Rendition.objects.in_bulk(list(ids))
    faces: dict[int, list[Face]] = {}
    for face in Face.objects.filter(rendition_id__in=set(carry.values()), carried=False):
        faces.setdefault(face.rendition_id, []).append(face)
    Face.objects.filter(rendition_id__in=list(carry)).delete()
    made: list[Face] = []
    changed: list[Rendition] = []
    events: list[EventSpec] = []
    steps_by_asset: dict[int, dict] = {}
    for pk, source_pk in carry.items():
        rendition, source = renditions.get(pk), renditions.get(source_pk)
        if rendition is None or source is None or rendition.asset_id != source.asset_id:
            continue
        if source.face_policy != policy.key or source.face_problem:
            continue
        asset_id = rendition.asset_id
        if asset_id is None:
            continue
        if asset_id not in steps_by_asset:
            steps_by_asset[asset_id] = registration_steps(
                {r.pk: r for r in Rendition.objects.filter(asset_id=asset_id)}
            )
        path = registration_path(steps_by_asset[asset_id], source_pk, pk)
        if path is None:
            continue
        found = faces.get(source_pk, [])
        boxes = carry_boxes([(f.left, f.top, f.width, f.height) for f in found], path)
        identifiable = 0
        for face, box in zip(found, boxes, strict=True):
            if box is None:  # outside this rendition (a crop without that face)
                continue
            identifiable += face.identifiable
            made.append(
                Face(
                    rendition_id=pk,
                    left=box[0],
                    top=box[1],
                    width=box[2],
                    height=box[3],
                    score=face.score,
                    identifiable=face.identifiable,
                    carried=True,
                )
            )
        rendition.faces_checked_at = now
        rendition.face_policy = policy.key
        rendition.face_problem = ""
        rendition.identifiable_faces = min(identifiable, 32767)
        rendition.faces_carried_from_id = source_pk
        gps = gps_position(rendition.metadata or {})
        # GPS comes from the stored metadata; XMP names need the file, which is not read.
        rendition.personal_signals = {"gps": gps} if gps else {}
        changed.append(rendition)
        if identifiable or gps:
            events.append(
                EventSpec(
                    event_type=AuditEvent.EventType.PERSONAL_DATA_FOUND,
                    object_type="rendition",
                    object_id=pk,
                    outcome=AuditEvent.Outcome.WARNING,
                    detail={
                        "identifiable_faces": identifiable,
                        "faces": sum(1 for b in boxes if b is not None),
                        "gps": bool(gps),
                        "carried_from": source_pk,
                        "policy": policy.key,
                    },
                )
            )
    Face.objects.bulk_create(made, batch_size=_CHUNK)
    Rendition.objects.bulk_update(
        changed,
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
    if events:
        audit_record_many(events)
    return len(changed)


def faces_uncarry_strays() -> int:
    """Mark for a new look the renditions whose faces came from a rendition of another asset.

    A regrouping can split a photograph; faces carried across the old match no longer hold.
    """
    strays = Rendition.objects.filter(faces_carried_from__isnull=False).filter(
        Q(asset__isnull=True) | ~Q(asset_id=F("faces_carried_from__asset_id"))
    )
    ids = list(strays.values_list("pk", flat=True))
    Face.objects.filter(rendition_id__in=ids, carried=True).delete()
    return Rendition.objects.filter(pk__in=ids).update(
        faces_checked_at=None, face_policy="", faces_carried_from=None, identifiable_faces=0
    )
