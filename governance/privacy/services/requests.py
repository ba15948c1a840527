"""Data access requests: record one, find the subject's face across the archive, respond.

A reviewer uploads reference photographs of the data subject; each is checked (size, type by
content, decompression bombs), stored under PROVENA_MEDIA_ROOT/access-requests/<id>/ and its
one face encoded (encrypted, like the archive's). The search decrypts the archive's stored
face encodings in chunks and keeps the faces within PROVENA_DSAR_MATCH_DISTANCE of any
reference face; the reviewer confirms or rejects each; the response pack lists every present
copy of the confirmed photographs and holds one image of each with everyone else's face
blurred (services/response_packs.py). Scanned files are only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.encryption import (
    InvalidToken,
    encoding_decrypt,
    encodings_decrypt,
)
from governance.models import AuditEvent, User
from governance.privacy.models import (
    DataAccessRequest,
    RequestCandidate,
)
from inventory.models import Copy, Face
from inventory.services.faces import face_policy, renditions_awaiting_faces

MEDIA_FOLDER = "access-requests"
_CHUNK = 2000


@dataclass(slots=True)
class SearchResult:
    """What one search of the archive found."""

    references: int = 0
    searched: int = 0
    candidates: int = 0
    new: int = 0
    dropped: int = 0
    undecryptable: int = 0
    warnings: list[str] = field(default_factory=list)


def check_worker(user: User) -> None:
    """Refuse anyone without the legal role's data-access-request permission."""
    if not user.has_perm("privacy.work_dataaccessrequest"):
        raise PermissionDenied("only the legal role works data access requests")


def check_open(request: DataAccessRequest) -> None:
    """Refuse work on a closed or refused request."""
    if request.status == DataAccessRequest.Status.CLOSED:
        raise ValidationError(f"data access request {request.pk} is closed")
    if request.status == DataAccessRequest.Status.REFUSED:
        raise ValidationError(
            f"data access request {request.pk} was refused; close it, or record a new request"
        )


def require_encoding_key() -> None:
    """Refuse early, with the fix, when no encryption key for face encodings is configured."""
    from governance.encryption import _cipher

    try:
        _cipher()
    except ImproperlyConfigured as exc:
        raise ValidationError(f"faces cannot be searched on this installation: {exc}") from exc


def audit_step(
    event_type: str,
    request: DataAccessRequest,
    user: User | None,
    detail: dict,
    outcome: str = "",
) -> None:
    """Record one step of a request in the audit log (user None: Provena itself, as from cron)."""
    audit_record(
        event_type=event_type,
        object_type="access_request",
        object_id=request.pk,
        user=user,
        detail=detail,
        outcome=outcome or AuditEvent.Outcome.SUCCESS,
    )


@transaction.atomic
def access_request_create(
    *, subject_reference: str, received_on: date, notes: str, created_by: User
) -> DataAccessRequest:
    """Record a data access request; it is due PROVENA_DSAR_DAYS days after it was received."""
    check_worker(created_by)
    subject_reference = (subject_reference or "").strip()
    if not subject_reference:
        raise ValidationError(
            {"subject_reference": "give the data subject's reference (your file number)"}
        )
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": "a request cannot be received in the future"})
    request = DataAccessRequest.objects.create(
        subject_reference=subject_reference,
        received_on=received_on,
        due_on=received_on + timedelta(days=settings.PROVENA_DSAR_DAYS),
        notes=(notes or "").strip(),
        created_by=created_by,
    )
    # The subject's reference stays out of the log, which other roles may read.
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_RECEIVED,
        request,
        created_by,
        {"received_on": received_on.isoformat(), "due_on": request.due_on.isoformat()},
    )
    return request


def _decrypt(tokens: Sequence[bytes | memoryview | None]) -> tuple[np.ndarray, np.ndarray]:
    """Return (encodings, usable mask); tokens missing or the key cannot open are left out."""
    present = [token for token in tokens if token is not None]
    if len(present) == len(tokens):
        try:
            return encodings_decrypt(present), np.ones(len(tokens), dtype=bool)
        except InvalidToken:
            pass
    vectors = np.zeros((len(tokens), 128), dtype="<f4")
    usable = np.zeros(len(tokens), dtype=bool)
    for index, token in enumerate(tokens):
        if token is None:
            continue
        try:
            vectors[index] = encoding_decrypt(token)
            usable[index] = True
        except InvalidToken:
            continue
    return vectors, usable


def no_encodings_message() -> str:
    """Say why the archive cannot be searched for faces, and what to do."""
    if not settings.PROVENA_FACE_ENCODINGS:
        return (
            "the archive cannot be searched for faces: face encodings are off. Set "
            "PROVENA_FACE_ENCODINGS=true and PROVENA_FACE_KEY (manage.py generate_face_key), "
            "then re-run the face pass (manage.py face_pass, or the next scan): it redoes the "
            "photographs checked without encodings"
        )
    waiting = len(renditions_awaiting_faces(policy=face_policy()))
    if waiting:
        return (
            f"the archive holds no face encodings yet: {waiting} photograph"
            f"{'s have' if waiting != 1 else ' has'} not been through the face pass with "
            "encodings on. Run manage.py face_pass (or scan the sources again) and then search"
        )
    return "no photograph in the archive shows a face, so there is nothing to search"


def _nearest(request: DataAccessRequest, references: np.ndarray, result: SearchResult) -> dict:
    """Return face id -> distance for the stored faces within the match distance."""
    threshold = settings.PROVENA_DSAR_MATCH_DISTANCE
    present = Copy.objects.filter(state=Copy.State.PRESENT).values("rendition_id")
    faces = Face.objects.filter(encoding__isnull=False, rendition_id__in=present).order_by("pk")
    hits: dict[int, float] = {}
    last = 0
    while True:
        rows = list(faces.filter(pk__gt=last).values_list("pk", "encoding")[:_CHUNK])
        if not rows:
            break
        last = rows[-1][0]
        ids = np.array([pk for pk, _ in rows])
        vectors, usable = _decrypt([token for _, token in rows])
        result.searched += int(usable.sum())
        result.undecryptable += int((~usable).sum())
        ids, vectors = ids[usable], vectors[usable]
        if not len(ids):
            continue
        distances = np.linalg.norm(vectors[:, None, :] - references[None, :, :], axis=2).min(axis=1)
        for face_id, distance in zip(ids.tolist(), distances.tolist(), strict=True):
            if distance <= threshold:
                hits[face_id] = round(distance, 4)
    return hits


@transaction.atomic
def access_request_search(*, request: DataAccessRequest, user: User) -> SearchResult:
    """Rank the archive's faces by distance to the reference faces; keep the near ones.

    Candidates found before keep their verdicts; undecided ones no longer near are dropped.
    """
    check_worker(user)
    request = DataAccessRequest.objects.select_for_update().get(pk=request.pk)
    check_open(request)
    tokens = list(
        request.reference_photos.filter(encoding__isnull=False).values_list("encoding", flat=True)
    )
    if not tokens:
        waiting = request.reference_photos.filter(chosen_face__isnull=True).exists()
        raise ValidationError(
            "pick the subject's face in the reference photo first"
            if waiting
            else "upload a reference photo of the subject before searching"
        )
    require_encoding_key()
    result = SearchResult(references=len(tokens))
    references, usable = _decrypt(tokens)
    if not usable.all():
        raise ValidationError(
            "a reference photo's face cannot be decrypted with PROVENA_FACE_KEY (was the key "
            "replaced without keeping the old one in the list?); upload the photo again"
        )
    hits = _nearest(request, references, result)
    if not result.searched:
        raise ValidationError(
            no_encodings_message()
            if not result.undecryptable
            else f"none of the {result.undecryptable} stored face encodings can be decrypted "
            "with PROVENA_FACE_KEY; restore the key they were made with (keys are listed "
            "newest first) or re-run the face pass"
        )
    if not settings.PROVENA_FACE_ENCODINGS:
        result.warnings.append(
            "face encodings are off (PROVENA_FACE_ENCODINGS), so faces found since they were "
            "turned off were not searched"
        )
    unencoded = Face.objects.filter(encoding__isnull=True).values("rendition_id").distinct().count()
    if unencoded:
        result.warnings.append(
            f"{unencoded} photograph{'s' if unencoded != 1 else ''} with faces were checked "
            "without encodings and were not searched; run manage.py face_pass with "
            "PROVENA_FACE_ENCODINGS on to include them"
        )
    if result.undecryptable:
        result.warnings.append(
            f"{result.undecryptable} stored face encodings could not be decrypted with "
            "PROVENA_FACE_KEY and were not searched"
        )
    existing = {c.face_id: c for c in request.candidates.all()}
    changed, created = [], []
    for face_id, distance in hits.items():
        candidate = existing.get(face_id)
        if candidate is None:
            created.append(RequestCandidate(request=request, face_id=face_id, distance=distance))
        elif candidate.distance != distance:
            candidate.distance = distance
            changed.append(candidate)
    RequestCandidate.objects.bulk_create(created, batch_size=_CHUNK)
    RequestCandidate.objects.bulk_update(changed, ["distance"], batch_size=_CHUNK)
    stale = [c.pk for f, c in existing.items() if f not in hits and c.confirmed is None]
    RequestCandidate.objects.filter(pk__in=stale).delete()
    result.new, result.dropped = len(created), len(stale)
    result.candidates = request.candidates.count()
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_SEARCHED,
        request,
        user,
        {
            "references": result.references,
            "faces_searched": result.searched,
            "candidates": result.candidates,
            "new": result.new,
            "dropped": result.dropped,
            "match_distance": f"{settings.PROVENA_DSAR_MATCH_DISTANCE:.2f}",
            "undecryptable": result.undecryptable,
        },
        AuditEvent.Outcome.WARNING if result.warnings else "",
    )
    return result


@transaction.atomic
def request_candidate_decide(
    *, candidate: RequestCandidate, confirmed: bool, user: User
) -> RequestCandidate:
    """Record whether a candidate face is the data subject."""
    check_worker(user)
    candidate = (
        RequestCandidate.objects.select_for_update()
        .select_related("request", "face")
        .get(pk=candidate.pk)
    )
    check_open(candidate.request)
    if not isinstance(confirmed, bool):
        raise ValidationError({"confirmed": "say whether this is the subject: true or false"})
    previous = candidate.confirmed
    candidate.confirmed = confirmed
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["confirmed", "decided_by", "decided_at"])
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_MATCH,
        candidate.request,
        user,
        {
            "candidate": candidate.pk,
            "face": candidate.face_id,
            "rendition": candidate.face.rendition_id,
            "distance": f"{candidate.distance:.3f}",
            "confirmed": confirmed,
            "previous": previous,
        },
    )
    return candidate
