"""Images a legal reviewer is shown while working a data access request (read only)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from governance.privacy.models import ReferencePhoto, RequestCandidate
from governance.privacy.selectors.requests import present_copy_path, reference_photo_file
from inventory.imaging.faces import load_upright

REFERENCE_VIEW_SIDE = 1200
FACE_CROP_SIDE = 200
# The crop shows this much around the face box on each side, as a fraction of its size.
FACE_CROP_MARGIN = 0.4


class ImageUnavailable(Exception):
    """The image cannot be shown: its file is gone, unreadable or not an image any more."""


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


@dataclass(frozen=True, slots=True)
class UprightSize:
    """An image's width and height after EXIF orientation, in original pixels."""

    width: int
    height: int


def reference_photo_size(*, photo: ReferencePhoto) -> UprightSize:
    """Return the stored reference photo's upright size, reading its header only."""
    try:
        with Image.open(reference_photo_file(photo=photo)) as im:
            width, height = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
    except _DECODE_ERRORS as exc:
        raise ImageUnavailable(str(exc)) from exc
    return UprightSize(width, height)


def reference_photo_jpeg(*, photo: ReferencePhoto) -> bytes:
    """Return the reference photo upright as a JPEG a browser shows (TIFF included)."""
    try:
        image, _, _ = load_upright(reference_photo_file(photo=photo), REFERENCE_VIEW_SIDE)
    except _DECODE_ERRORS as exc:
        raise ImageUnavailable(str(exc)) from exc
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def candidate_face_jpeg(*, candidate: RequestCandidate) -> bytes:
    """Return a crop of the candidate's face from a present copy of its photograph."""
    face = candidate.face
    path = present_copy_path(rendition_id=face.rendition_id)
    if path is None:
        raise ImageUnavailable("no present copy of this photograph is left to show")
    try:
        image, scale, _ = load_upright(path, 1600)
    except _DECODE_ERRORS as exc:
        raise ImageUnavailable(str(exc)) from exc
    margin_x, margin_y = face.width * FACE_CROP_MARGIN, face.height * FACE_CROP_MARGIN
    box = (
        max(0, round((face.left - margin_x) / scale)),
        max(0, round((face.top - margin_y) / scale)),
        min(image.width, round((face.left + face.width + margin_x) / scale)),
        min(image.height, round((face.top + face.height + margin_y) / scale)),
    )
    crop = ImageOps.contain(image.crop(box), (FACE_CROP_SIDE, FACE_CROP_SIDE))
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
