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

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from governance.audit import audit_record
from governance.encryption import (
    InvalidToken,
    encoding_decrypt,
    encoding_encrypt,
    encodings_decrypt,
)
from governance.models import AuditEvent, User
from governance.privacy.models import (
    DataAccessRequest,
    ReferencePhoto,
    RequestCandidate,
)
from governance.privacy.selectors.requests import reference_photo_file
from inventory.imaging.faces import detect_faces, encode_faces, load_upright
from inventory.models import Copy, Face
from inventory.services.faces import face_policy, renditions_awaiting_faces

# Reference photos are searched on an upright decode at most this long (as the face pass is).
REFERENCE_DECODE_SIDE = 1600
REFERENCE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif"}
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
    """Refuse work on a closed request."""
    if request.status == DataAccessRequest.Status.CLOSED:
        raise ValidationError(f"data access request {request.pk} is closed")


def _require_key() -> None:
    """Refuse early, with the fix, when no encryption key for face encodings is configured."""
    from governance.encryption import _cipher

    try:
        _cipher()
    except ImproperlyConfigured as exc:
        raise ValidationError(f"faces cannot be searched on this installation: {exc}") from exc


def audit_step(
    event_type: str, request: DataAccessRequest, user: User, detail: dict, outcome: str = ""
) -> None:
    """Record one step of a request in the audit log."""
    audit_record(
        event_type=event_type,
        object_type="access_request",
        object_id=request.pk,
        user=user,
        detail=detail,
        **({"outcome": outcome} if outcome else {}),
    )


# --- requests --------------------------------------------------------------------------------


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


# --- reference photos ------------------------------------------------------------------------


def _read_upload(upload: File, name: str) -> bytes:
    """Return the upload's bytes, refusing an empty or too large file without reading it all."""
    limit = settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES
    too_large = ValidationError(
        f"{name} is larger than {filesizeformat(limit)}, the most a reference photo may be "
        "(setting PROVENA_REFERENCE_PHOTO_MAX_BYTES); upload a smaller copy"
    )
    if upload.size is not None and upload.size > limit:
        raise too_large
    buffer = io.BytesIO()
    for chunk in upload.chunks():
        buffer.write(chunk)
        if buffer.tell() > limit:
            raise too_large
    if buffer.tell() == 0:
        raise ValidationError(f"{name} is empty")
    return buffer.getvalue()


def _bomb(name: str, pixels: int) -> ValidationError:
    return ValidationError(
        f"{name} is refused as a decompression bomb: its header claims {pixels:,} pixels, more "
        f"than the limit of {settings.PROVENA_MAX_IMAGE_PIXELS:,} (PROVENA_MAX_IMAGE_PIXELS)"
    )


def _image_format(data: bytes, name: str) -> str:
    """Return the image format judged by content; refuse other files and bombs before decoding."""
    limit = settings.PROVENA_MAX_IMAGE_PIXELS
    if Image.MAX_IMAGE_PIXELS is not None and limit > Image.MAX_IMAGE_PIXELS:
        # Only ever raised (as the scanner does); our own limit is checked below.
        Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(REFERENCE_FORMATS)) as im:
                fmt, (width, height) = im.format, im.size
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _bomb(name, int(found.group(1)) if found else limit + 1) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            f"{name} is not a JPEG, PNG, WebP or TIFF image; upload a photograph in one of those "
            "formats"
        ) from exc
    if width * height > limit:
        raise _bomb(name, width * height)
    return fmt


def _decode(data: bytes, name: str, max_side: int) -> tuple[Image.Image, float]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image, scale, _ = load_upright(io.BytesIO(data), max_side)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            f"{name} could not be decoded ({exc}); upload an undamaged copy"
        ) from exc
    return image, scale


def _reference_boxes(image: Image.Image) -> list[tuple[int, int, int, int, float]]:
    """Return the faces worth offering, left to right: confident ones, else any found."""
    policy = face_policy()
    boxes = detect_faces(image, policy)
    confident = [box for box in boxes if box[4] >= policy.min_score]
    return sorted(confident or boxes, key=lambda box: (box[0], box[1]))


def _encrypted_encoding(image: Image.Image, box: tuple[int, int, int, int, float]) -> bytes:
    return encoding_encrypt(encode_faces(image, [box])[0])


@transaction.atomic
def reference_photo_add(
    *, request: DataAccessRequest, upload: File, uploaded_by: User
) -> ReferencePhoto:
    """Check, store and examine a photo of the subject; encode its face if it has exactly one.

    A photo with several faces is kept with every box, for the reviewer to pick one
    (reference_photo_choose_face); a photo with none is refused.
    """
    check_worker(uploaded_by)
    check_open(request)
    name = Path(upload.name or "upload").name[:255] or "upload"
    data = _read_upload(upload, name)
    fmt = _image_format(data, name)
    digest = hashlib.sha256(data).hexdigest()
    earlier = request.reference_photos.filter(sha256=digest).first()
    if earlier is not None:
        raise ValidationError(f"{name} was already uploaded to this request as {earlier}")
    _require_key()
    image, scale = _decode(data, name, REFERENCE_DECODE_SIDE)
    boxes = _reference_boxes(image)
    if not boxes:
        raise ValidationError(
            f"no face found in {name}; upload a photo where the face is clearly visible "
            "(facing the camera, not too small or blurred)"
        )
    relative = f"{MEDIA_FOLDER}/{request.pk}/{digest}.{REFERENCE_FORMATS[fmt]}"
    photo = ReferencePhoto.objects.create(
        request=request,
        path=relative,
        original_name=name,
        sha256=digest,
        faces=[
            [
                round(left * scale),
                round(top * scale),
                round((r - left) * scale),
                round((b - top) * scale),
            ]
            for left, top, r, b, _ in boxes
        ],
        chosen_face=0 if len(boxes) == 1 else None,
        encoding=_encrypted_encoding(image, boxes[0]) if len(boxes) == 1 else None,
        uploaded_by=uploaded_by,
    )
    target = Path(settings.PROVENA_MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_PHOTO,
        request,
        uploaded_by,
        {
            "photo": photo.pk,
            "sha256": digest,
            "faces": len(boxes),
            "chosen_face": photo.chosen_face,
        },
    )
    return photo


@transaction.atomic
def reference_photo_choose_face(*, photo: ReferencePhoto, face: int, user: User) -> ReferencePhoto:
    """Pick which of the faces in a reference photo is the subject's, and encode it."""
    check_worker(user)
    photo = ReferencePhoto.objects.select_for_update().select_related("request").get(pk=photo.pk)
    check_open(photo.request)
    if not isinstance(face, int) or not 0 <= face < len(photo.faces):
        raise ValidationError(
            {"face": f"choose one of the {len(photo.faces)} faces found in {photo.original_name}"}
        )
    _require_key()
    path = reference_photo_file(photo=photo)
    if not path.is_file():
        raise ValidationError(
            f"{photo.original_name} is missing from PROVENA_MEDIA_ROOT; upload it again"
        )
    image, scale = _decode(path.read_bytes(), photo.original_name, REFERENCE_DECODE_SIDE)
    left, top, width, height = photo.faces[face]
    box = (
        round(left / scale),
        round(top / scale),
        round((left + width) / scale),
        round((top + height) / scale),
        1.0,
    )
    photo.chosen_face = face
    photo.encoding = _encrypted_encoding(image, box)
    photo.save(update_fields=["chosen_face", "encoding"])
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_PHOTO,
        photo.request,
        user,
        {"photo": photo.pk, "sha256": photo.sha256, "faces": len(photo.faces), "chosen_face": face},
    )
    return photo


# --- the search --------------------------------------------------------------------------------


def _decrypt(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Return (encodings, usable mask); tokens the key cannot open are left out, not fatal."""
    try:
        return encodings_decrypt(tokens), np.ones(len(tokens), dtype=bool)
    except InvalidToken:
        pass
    vectors = np.zeros((len(tokens), 128), dtype="<f4")
    usable = np.zeros(len(tokens), dtype=bool)
    for index, token in enumerate(tokens):
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
    _require_key()
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
