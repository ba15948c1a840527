"""Find faces and other personal-data signals in one image file (no Django).

The face pass runs once per unique rendition, on one of its copies. Decode policy: the image is
opened with EXIF orientation applied and reduced so its long side is at most
``FacePolicy.decode_side`` pixels (JPEGs through draft mode, so the full 12 MP frame is never
decoded); images whose decoded long side is at most ``upsample_below`` are searched again at
twice the size, so small pictures still show faces down to about 40 px. The HOG detector
finds faces from about 80 px across in the decoded image; at the default 1,600 px that is
about 5% of the long side of the original. Boxes and sizes are reported in the original,
upright pixels.

An identifiable person is a face at least ``min_face_px`` original pixels across whose
detector score is at least ``min_score``; both are settings, and changing them reclassifies
stored faces without decoding anything again.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps

# face_recognition_models imports pkg_resources, which warns on import under setuptools 80.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition_models

MODELS = ("hog", "cnn")


@dataclass(frozen=True, slots=True)
class FacePolicy:
    """How faces are looked for and which count as identifiable people."""

    model: str = "hog"
    decode_side: int = 1600
    upsample_below: int = 1000
    min_face_px: int = 80
    min_score: float = 0.5
    encodings: bool = False

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"face model must be one of {', '.join(MODELS)}, not {self.model!r}")
        if self.decode_side < 200:
            raise ValueError("the face decode side must be at least 200 px")

    @property
    def key(self) -> str:
        """Name the detection parameters; renditions checked under another key are redone."""
        # "hog-gray": the HOG detector has looked at grayscale since 2026-11; renditions
        # checked on colour are checked again.
        model = "hog-gray" if self.model == "hog" else self.model
        return f"{model}/{self.decode_side}/{self.upsample_below}" + (
            "/enc" if self.encodings else ""
        )

    def is_identifiable(self, *, size: int, score: float) -> bool:
        """Return whether a face this size (original px) and score is an identifiable person."""
        return size >= self.min_face_px and score >= self.min_score


@dataclass(slots=True)
class FoundFace:
    """One face: its box in original upright pixels, detector score and optional encoding."""

    left: int
    top: int
    width: int
    height: int
    score: float
    encoding: list[float] | None = None

    @property
    def size(self) -> int:
        return min(self.width, self.height)


@dataclass(slots=True)
class FaceResult:
    """What the face pass found in one file."""

    faces: list[FoundFace] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    problem: str = ""


_detectors: dict[str, Any] = {}


def _dlib() -> Any:  # dlib has no type information
    import dlib  # imported late: workers that never run the face pass don't pay for it

    return dlib


def _detector(model: str) -> Any:
    """Return the (cached, per process) detector for the model, loaded from installed files."""
    if model not in _detectors:
        dlib = _dlib()
        if model == "hog":
            _detectors[model] = dlib.get_frontal_face_detector()
        else:
            _detectors[model] = dlib.cnn_face_detection_model_v1(
                face_recognition_models.cnn_face_detector_model_location()
            )
    return _detectors[model]


def _encoder() -> Any:
    if "encoder" not in _detectors:
        dlib = _dlib()
        _detectors["encoder"] = (
            dlib.shape_predictor(
                face_recognition_models.pose_predictor_five_point_model_location()
            ),
            dlib.face_recognition_model_v1(
                face_recognition_models.face_recognition_model_location()
            ),
        )
    return _detectors["encoder"]


def load_upright(
    path: Path | str | BinaryIO, max_side: int, mode: str = "RGB"
) -> tuple[Image.Image, float, str]:
    """Open the image upright (EXIF orientation), reduced to max_side; return it, scale, XMP.

    mode is "RGB", or "L" for grayscale, which a JPEG decodes without its colour planes.
    """
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with Image.open(path) as im:
        xmp = _xmp_text(im)
        width, height = im.size
        orientation = im.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        long_side = max(width, height)
        if im.format == "JPEG" and long_side > max_side:
            im.draft(mode, (im.size[0] * max_side // long_side, im.size[1] * max_side // long_side))
        im.load()
        upright = ImageOps.exif_transpose(im.convert(mode) if im.mode != mode else im)
    if max(upright.size) > max_side:
        upright.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    scale = long_side / max(upright.size)
    return upright, scale, xmp


def detect_faces(image: Image.Image, policy: FacePolicy) -> list[tuple[int, int, int, int, float]]:
    """Return (left, top, right, bottom, score) boxes in the image's own pixels."""
    # dlib's frontal face detector was trained on grayscale; given colour it takes the
    # strongest channel's gradient at every pixel, which costs a third more.
    wanted = "L" if policy.model == "hog" else "RGB"
    pixels = np.asarray(image if image.mode == wanted else image.convert(wanted))
    upsample = 1 if max(image.size) <= policy.upsample_below else 0
    detector = _detector(policy.model)
    boxes: list[tuple[int, int, int, int, float]] = []
    if policy.model == "hog":
        rects, scores, _ = detector.run(pixels, upsample, 0.0)
        for rect, score in zip(rects, scores, strict=True):
            boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom(), float(score)))
    else:
        for found in detector(pixels, upsample):
            rect = found.rect
            boxes.append(
                (rect.left(), rect.top(), rect.right(), rect.bottom(), float(found.confidence))
            )
    width, height = image.size
    clipped = []
    for left, top, right, bottom, score in boxes:
        left, top = max(0, left), max(0, top)
        right, bottom = min(width, right), min(height, bottom)
        if right > left and bottom > top:
            clipped.append((left, top, right, bottom, score))
    return clipped


def encode_faces(image: Image.Image, boxes: list[tuple[int, int, int, int, float]]) -> list:
    """Return the 128-d encoding of each box (dlib's ResNet model, as face_recognition does)."""
    dlib = _dlib()
    predictor, model = _encoder()
    pixels = np.asarray(image)
    encodings = []
    for left, top, right, bottom, _ in boxes:
        shape = predictor(pixels, dlib.rectangle(left, top, right, bottom))
        encodings.append(list(model.compute_face_descriptor(pixels, shape, 1)))
    return encodings


def examine_faces(path: Path | str, policy: FacePolicy) -> FaceResult:
    """Find the faces and named people in one file; a file that fails says why."""
    try:
        # Colour only where something needs it: the CNN detector and the encodings.
        colour = policy.model != "hog" or policy.encodings
        image, scale, xmp = load_upright(path, policy.decode_side, "RGB" if colour else "L")
        boxes = detect_faces(image, policy)
        encodings = encode_faces(image, boxes) if policy.encodings and boxes else None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return FaceResult(problem=f"the face pass could not read the file: {exc}")
    faces = []
    for index, (left, top, right, bottom, score) in enumerate(boxes):
        faces.append(
            FoundFace(
                left=round(left * scale),
                top=round(top * scale),
                width=round((right - left) * scale),
                height=round((bottom - top) * scale),
                score=round(score, 4),
                encoding=encodings[index] if encodings else None,
            )
        )
    return FaceResult(faces=faces, names=person_names(xmp))


def examine_faces_batch(jobs: list[tuple[int, str]], policy: FacePolicy) -> list:
    """Run examine_faces over (rendition id, path) pairs; for process pools and workers."""
    return [(rendition_id, examine_faces(path, policy)) for rendition_id, path in jobs]


# --- names of people in XMP ------------------------------------------------------------------

# Iptc4xmpExt:PersonInImage and the names of face regions (MWG regions, Microsoft Photo).
_PERSON_BAG = re.compile(
    r"<Iptc4xmpExt:PersonInImage>(.*?)</Iptc4xmpExt:PersonInImage>", re.DOTALL | re.IGNORECASE
)
_LIST_ITEM = re.compile(r"<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL)
_REGION_NAME = re.compile(
    r"(?:mwg-rs:Name|MPReg:PersonDisplayName)\s*=\s*\"([^\"]+)\"|"
    r"<(?:mwg-rs:Name|MPReg:PersonDisplayName)>([^<]+)<",
    re.IGNORECASE,
)


def _xmp_text(im: Image.Image) -> str:
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return raw[:1_000_000]


def person_names(xmp: str) -> list[str]:
    """Return the people named in an XMP packet (PersonInImage and face-region names)."""
    if not xmp:
        return []
    names: list[str] = []
    for bag in _PERSON_BAG.findall(xmp):
        names.extend(item.strip() for item in _LIST_ITEM.findall(bag))
    for attribute, element in _REGION_NAME.findall(xmp):
        names.append((attribute or element).strip())
    seen: dict[str, None] = {}
    for name in names:
        if name and len(name) <= 200:
            seen.setdefault(name, None)
    return list(seen)[:50]


def gps_position(metadata: dict[str, Any]) -> list[float] | None:
    """Return [latitude, longitude] from stored metadata, or None."""
    lat, lon = metadata.get("gps_latitude"), metadata.get("gps_longitude")
    if lat is None or lon is None:
        return None
    return [lat, lon]
