"""Examine one image file: bytes, pixel identity, metadata, fingerprints and thumbnail."""

from __future__ import annotations

import errno
import io
import re
import signal
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, UnidentifiedImageError

from inventory.imaging.decode import (
    JPEG_FORMATS,
    MIN_FINGERPRINT_SIDE,
    TRANSPOSE,
    full_decode,
    jpeg_decode,
)
from inventory.imaging.fingerprints import Fingerprints, compute_fingerprints, to_hex
from inventory.imaging.metadata import clean_text, read_metadata
from inventory.imaging.reading import LINK_MESSAGE, FileContent, Unusable, read_stable
from inventory.imaging.thumbnails import MediaWriteFailed, write_thumbnail

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp"}
)
# Only the formats an archive holds; Pillow's exotic plugins widen the attack surface.
_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP")  # JPEG also opens MPO
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
    (b"GIF8", "GIF"), (b"BM", "BMP"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What one decodable image file shows and says about itself."""

    pixel_hash: str
    format: str
    width: int
    height: int
    mode: str
    has_icc_profile: bool
    frame_count: int
    orientation: int
    metadata: dict[str, str | int | float | None]
    phash: str | None
    dhash: str | None
    fingerprint_note: str
    thumbnail: str | None
    fingerprints: Fingerprints | None = None


@dataclass(frozen=True, slots=True)
class Examination:
    """The outcome of examining one file: its bytes, and its image or why there is none."""

    path: str
    size: int | None
    mtime_ns: int | None
    sha256: str | None
    error: str | None
    image: ImageFacts | None


class _TimedOut(BaseException):
    """Raised by the per-file deadline; a BaseException so no `except Exception` hides it."""


def examine_batch(
    root: str,
    rel_paths: list[str],
    *,
    thumbnail_dir: str | None,
    max_pixels: int,
    deadline_seconds: float | None = None,
) -> list[Examination]:
    """Examine each file of a batch, in order."""
    return [
        examine_file(
            root,
            p,
            thumbnail_dir=thumbnail_dir,
            max_pixels=max_pixels,
            deadline_seconds=deadline_seconds,
        )
        for p in rel_paths
    ]


def examine_file(
    root: str,
    rel_path: str,
    *,
    thumbnail_dir: str | None,
    max_pixels: int,
    thumbnail_size: int = 320,
    deadline_seconds: float | None = None,
) -> Examination:
    """Examine one file under root; report every problem with the file as an error.

    With deadline_seconds, work on the file stops after that long (in a main thread, where
    the scanner's worker processes run it) and the file is recorded as an error.
    """
    if thumbnail_dir and Path(thumbnail_dir).resolve().is_relative_to(Path(root).resolve()):
        # A configuration mistake, not a bad file: the scanned store must never be written.
        raise ValueError(f"thumbnail_dir {thumbnail_dir} lies inside the scanned root {root}")
    armed = _deadline_start(deadline_seconds)
    try:
        try:
            return _examine_file(root, rel_path, thumbnail_dir, max_pixels, thumbnail_size)
        finally:
            _deadline_stop(armed)
    except _TimedOut:
        # The alarm may also land in the `finally` above; the file is then over time anyway.
        _deadline_stop(armed)
        message = f"gave up after {deadline_seconds:g} s (the time limit for one file)"
        return Examination(rel_path, None, None, None, message, None)


def _deadline_start(seconds: float | None) -> tuple[Any] | None:
    """Arm a one-shot SIGALRM that raises _TimedOut; return what to restore, or None."""
    # Signals reach only the main thread; a scan examining in a background thread relies on
    # the pixel limit alone (docs/security.md).
    if not seconds or threading.current_thread() is not threading.main_thread():
        return None

    def expire(signum: int, frame: Any) -> None:
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return (previous,)


def _deadline_stop(armed: tuple[Any] | None) -> None:
    """Disarm the per-file alarm and put back the previous SIGALRM handler."""
    if armed is None:
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, armed[0] if armed[0] is not None else signal.SIG_DFL)


def _examine_file(
    root: str, rel_path: str, thumbnail_dir: str | None, max_pixels: int, thumbnail_size: int
) -> Examination:
    """Read, hash and examine one file (examine_file without the deadline)."""
    # WeasyPrint and face_recognition set this to True when imported; a scanner running in
    # the same process must still see truncated files as errors, never as half-grey images.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    rel = Path(rel_path)
    if rel.is_absolute() or ".." in rel.parts:
        return Examination(rel_path, None, None, None, "path escapes the source root", None)
    path = Path(root) / rel
    # The walk does not follow links; a folder swapped for one since then must not lead the
    # read outside the source (and so outside PROVENA_ALLOWED_ROOTS).
    if not path.parent.resolve().is_relative_to(Path(root).resolve()):
        return Examination(rel_path, None, None, None, LINK_MESSAGE, None)
    try:
        content = read_stable(path)
    except Unusable as exc:
        return Examination(rel_path, None, None, None, str(exc), None)
    except OSError as exc:
        return Examination(rel_path, None, None, None, _describe_os_error(exc), None)
    error: str | None = None
    facts: ImageFacts | None = None
    try:
        if content.size == 0:
            raise Unusable("empty file (0 bytes)")
        facts = _examine_image(path, content, thumbnail_dir, max_pixels, thumbnail_size)
    except Unusable as exc:
        error = str(exc)
    except MediaWriteFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one file is reported, not raised
        error = _describe_image_error(exc, content, max_pixels)
    return Examination(rel_path, content.size, content.mtime_ns, content.sha256, error, facts)


def _examine_image(
    path: Path, content: FileContent, thumbnail_dir: str | None, max_pixels: int, thumb_size: int
) -> ImageFacts:
    """Decode once at reduced size and gather everything the scanner records."""
    source: Any = io.BytesIO(content.data) if content.data is not None else path
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        # Only ever raised, so concurrent callers are safe; our own limit is checked below.
        Image.MAX_IMAGE_PIXELS = max_pixels
    # Not thread-safe (process-wide filters), which is fine: workers are processes.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Pillow only warns between its limit and twice it; a bomb must be an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(source, formats=_FORMATS) as im:
            fmt, (width, height), mode = im.format or "?", im.size, im.mode
            if width * height > max_pixels:
                raise Unusable(_bomb_message(width * height, max_pixels))
            if width < 1 or height < 1:
                raise Unusable(f"corrupt {fmt} data: the header gives a size of {width}x{height}")
            frame_count = int(getattr(im, "n_frames", 1))
            has_icc = bool(im.info.get("icc_profile"))
            if fmt in JPEG_FORMATS:
                display, orientation, pixel_hash = jpeg_decode(im, path, content)
            else:
                display, orientation, pixel_hash = full_decode(im)
            metadata = read_metadata(im, fmt, path, content)
    metadata["orientation"] = orientation
    # Pillow's tag parser warns, rather than fails, on damaged EXIF/TIFF tags: keep the news.
    tag_trouble = [str(w.message) for w in caught if w.filename.endswith("TiffImagePlugin.py")]
    if tag_trouble:
        metadata.setdefault("metadata_error", clean_text("; ".join(dict.fromkeys(tag_trouble))))
    display = display.transpose(TRANSPOSE[orientation]) if orientation in TRANSPOSE else display
    fingerprints, note = _fingerprints(display)
    phash = to_hex(fingerprints.phash) if fingerprints else None
    dhash = to_hex(fingerprints.dhash) if fingerprints else None
    if frame_count > 1 and not note:
        note = f"first frame of {frame_count}"
    thumbnail = None
    if thumbnail_dir is not None:
        try:
            thumbnail = write_thumbnail(display, Path(thumbnail_dir), pixel_hash, thumb_size)
        except OSError as exc:
            # A thumbnail is a convenience; failing to write one must not lose the record.
            metadata["thumbnail_error"] = _describe_os_error(exc)
    return ImageFacts(
        pixel_hash, fmt, width, height, mode, has_icc, frame_count, orientation, metadata,
        phash, dhash, note, thumbnail, fingerprints,
    )  # fmt: skip


def _fingerprints(display: Image.Image) -> tuple[Fingerprints | None, str]:
    """Return the near-duplicate fingerprints of an oriented, reduced image, and a note."""
    if min(display.size) < MIN_FINGERPRINT_SIDE:
        return None, "too small to fingerprint"
    fingerprints = compute_fingerprints(display)
    if fingerprints is None:
        return None, "too flat to fingerprint"
    return fingerprints, ""


def _bomb_message(pixels: int, limit: int) -> str:
    """Describe an image whose header claims more pixels than allowed."""
    return f"decompression bomb: {pixels:,} pixels exceeds the limit of {limit:,}"


def _describe_os_error(exc: OSError) -> str:
    """Describe a file-access failure for a person."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link
        return LINK_MESSAGE
    if isinstance(exc, FileNotFoundError):
        return "file not found (removed or renamed during the scan)"
    return f"unreadable: {exc.strerror or exc}"


def _describe_image_error(exc: Exception, content: FileContent, max_pixels: int) -> str:
    """Describe why Pillow could not decode a file, for a person."""
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        # Pillow's limit was raised to at least ours, so whatever it flags exceeds ours too.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        return _bomb_message(int(found.group(1)), max_pixels) if found else f"{exc}"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode the image"
    if isinstance(exc, OSError) and exc.errno is not None:
        return _describe_os_error(exc)
    kind = next((name for magic, name in _MAGIC if content.head.startswith(magic)), None)
    if content.head[:4] == b"RIFF" and content.head[8:12] == b"WEBP":
        kind = "WebP"
    if isinstance(exc, UnidentifiedImageError):
        if kind:  # it starts like an image, so it is a damaged one rather than something else
            return f"corrupt {kind} data: the header could not be read"
        return (
            "not an image: the file's contents are not a recognised image format"
            f" (starts with {content.head[:8]!r})"
        )
    kind = kind or "image"
    if isinstance(exc, OSError) and "truncated" in str(exc).lower():
        return f"truncated {kind} data"
    return f"corrupt {kind} data: {exc or type(exc).__name__}"
