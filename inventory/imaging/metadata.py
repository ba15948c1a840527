"""Read and normalise the metadata of one image file (EXIF, XMP, GPS, times)."""

from __future__ import annotations

import io
import re
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import exifread
from PIL import Image

from inventory.imaging.reading import FileContent, open_binary

_MAX_STRING = 1000
_EXIFREAD_FORMATS = frozenset({"JPEG", "MPO", "TIFF", "WEBP"})
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")
# NUL padding and other C0 controls are never text in EXIF, and PostgreSQL rejects NUL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Our name: (exifread key, Pillow IFD pointer or None for IFD0, tag id).
_EXIF_FIELDS: dict[str, tuple[str, int | None, int]] = {
    "DateTimeOriginal": ("EXIF DateTimeOriginal", 0x8769, 0x9003),
    "OffsetTimeOriginal": ("EXIF OffsetTimeOriginal", 0x8769, 0x9011),
    "DateTime": ("Image DateTime", None, 0x0132),
    "Make": ("Image Make", None, 0x010F),
    "Model": ("Image Model", None, 0x0110),
    "LensModel": ("EXIF LensModel", 0x8769, 0xA434),
    "Artist": ("Image Artist", None, 0x013B),
    "Copyright": ("Image Copyright", None, 0x8298),
    "Software": ("Image Software", None, 0x0131),
    "ImageDescription": ("Image ImageDescription", None, 0x010E),
    "ISOSpeedRatings": ("EXIF ISOSpeedRatings", 0x8769, 0x8827),
    "ExposureTime": ("EXIF ExposureTime", 0x8769, 0x829A),
    "FNumber": ("EXIF FNumber", 0x8769, 0x829D),
    "FocalLength": ("EXIF FocalLength", 0x8769, 0x920A),
    "GPSLatitudeRef": ("GPS GPSLatitudeRef", 0x8825, 1),
    "GPSLatitude": ("GPS GPSLatitude", 0x8825, 2),
    "GPSLongitudeRef": ("GPS GPSLongitudeRef", 0x8825, 3),
    "GPSLongitude": ("GPS GPSLongitude", 0x8825, 4),
}


def read_metadata(im: Image.Image, fmt: str, path: Path, content: FileContent) -> dict[str, Any]:
    """Return normalised EXIF metadata; bad EXIF leaves it partial, never fails the file."""
    raw: dict[str, Any] = {}
    problem: str | None = None
    if fmt == "TIFF" or (fmt in _EXIFREAD_FORMATS and im.info.get("exif")):
        try:
            with io.BytesIO(content.data) if content.data is not None else open_binary(path) as fh:
                tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
            raw = {
                key: tags[name].values for key, (name, *_) in _EXIF_FIELDS.items() if name in tags
            }
        except Exception as exc:  # noqa: BLE001 - exifread fails in many ways on bad EXIF
            problem = f"EXIF could not be read: {exc}"
    if not raw:
        try:
            exif = im.getexif()
            ifds = {None: exif, 0x8769: exif.get_ifd(0x8769), 0x8825: exif.get_ifd(0x8825)}
            raw = {k: ifds[i][t] for k, (_, i, t) in _EXIF_FIELDS.items() if t in ifds[i]}
        except Exception as exc:  # noqa: BLE001 - as above, for Pillow's parser
            problem = problem or f"EXIF could not be read: {exc}"
    metadata = _normalise(raw)
    if problem:
        metadata["metadata_error"] = clean_text(problem)
    return metadata


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn raw EXIF values into the JSON-ready metadata the scanner stores."""
    offset = clean_text(raw.get("OffsetTimeOriginal")) if "DateTimeOriginal" in raw else None
    capture = _iso_time(clean_text(raw.get("DateTimeOriginal")), offset) or _iso_time(
        clean_text(raw.get("DateTime")), None
    )
    exposure = _number(raw.get("ExposureTime"))
    f_number, focal_length, iso = (
        _number(raw.get(k)) for k in ("FNumber", "FocalLength", "ISOSpeedRatings")
    )
    return {
        "capture_time": capture,
        "camera_make": clean_text(raw.get("Make")),
        "camera_model": clean_text(raw.get("Model")),
        "lens_model": clean_text(raw.get("LensModel")),
        "artist": clean_text(raw.get("Artist")),
        "copyright": clean_text(raw.get("Copyright")),
        "software": clean_text(raw.get("Software")),
        "description": clean_text(raw.get("ImageDescription")),
        "gps_latitude": _gps(raw.get("GPSLatitude"), raw.get("GPSLatitudeRef"), 90),
        "gps_longitude": _gps(raw.get("GPSLongitude"), raw.get("GPSLongitudeRef"), 180),
        "iso": int(iso) if iso is not None and 0 < iso < 10**7 else None,
        "exposure_time": str(exposure.limit_denominator(100_000)) if exposure else None,
        "f_number": round(float(f_number), 2) if f_number else None,
        "focal_length": round(float(focal_length), 2) if focal_length else None,
    }


def clean_text(value: Any) -> str | None:
    """Return an EXIF string without NULs, control codes or outer space, capped, or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = _CONTROL_CHARS.sub("", str(value)).strip()[:_MAX_STRING]
    return text or None


def _number(value: Any) -> Fraction | None:
    """Return an EXIF number (the first of a list) as an exact fraction, None if unusable."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        if hasattr(value, "numerator") and hasattr(value, "denominator"):
            # exifread's Ratio and Pillow's IFDRational both allow a zero denominator
            if not value.denominator:
                return None
            return Fraction(int(value.numerator), int(value.denominator))
        return Fraction(value) if isinstance(value, int | float | str) else None
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None


def _gps(value: Any, ref: Any, limit: int) -> float | None:
    """Return signed decimal degrees from EXIF degrees/minutes/seconds and a N/S/E/W ref."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 3:
        return None
    degrees = 0.0
    for i, part in enumerate(_number(v) for v in value):
        if part is None:
            return None
        degrees += float(part) / 60**i
    if (clean_text(ref) or "").upper()[:1] in ("S", "W"):
        degrees = -degrees
    return round(degrees, 7) if abs(degrees) <= limit else None


def _iso_time(value: str | None, offset: str | None) -> str | None:
    """Return an EXIF "YYYY:MM:DD HH:MM:SS" time as ISO 8601, None if it is not a real time."""
    match = _EXIF_TIME.match(value or "")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        date(year, month, day)  # rejects the "0000:00:00" that cameras write when unset
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    suffix = offset if offset and _EXIF_OFFSET.fullmatch(offset) else ""
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{suffix}"
