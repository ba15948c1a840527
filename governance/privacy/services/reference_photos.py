"""Reference photographs of a data subject: checked, decoded once, one face chosen and encoded."""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from governance.encryption import (
    encoding_encrypt,
)
from governance.files import write_bytes_atomic
from governance.models import AuditEvent, User
from governance.privacy.models import (
    DataAccessRequest,
    ReferencePhoto,
)
from governance.privacy.selectors.requests import reference_photo_file
from governance.privacy.services.requests import (
    MEDIA_FOLDER,
    audit_step,
    check_open,
    check_worker,
    require_encoding_key,
)
from inventory.imaging.faces import detect_faces, encode_faces, load_upright
from inventory.services.faces import face_policy

# Reference photos are searched on an upright decode at most this long (as the face pass is).
REFERENCE_DECODE_SIDE = 1600
REFERENCE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif"}


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
    if fmt is None:  # Pillow names the format of every file it opens from the formats asked
        raise ValidationError(
            f"{name} is not a JPEG, PNG, WebP or TIFF image; upload a photograph in one of those "
            "formats"
        )
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
    require_encoding_key()
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
    write_bytes_atomic(Path(settings.PROVENA_MEDIA_ROOT) / relative, data)
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
    require_encoding_key()
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
