"""Examine one image file: bytes, pixel identity, metadata, fingerprints and thumbnail."""

from __future__ import annotations

import errno
import hashlib
import io
import mmap
import os
import re
import signal
import stat
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import exifread
import numpy as np
import simplejpeg
from PIL import Image, ImageFile, UnidentifiedImageError

from inventory.fingerprints import Fingerprints, compute_fingerprints, to_hex

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp"}
)

_IN_MEMORY_LIMIT = 256 * 1024 * 1024
_CHUNK_SIZE = 1024 * 1024
_READ_ATTEMPTS = 3
# Decode to at least this long side (about 512 px); 1/8 of a 12 MP frame is 500 px. It is
# fixed, not raised for big thumbnails, so fingerprints never depend on the thumbnail setting.
_MIN_REDUCED_LONG_SIDE = 384
_MIN_FINGERPRINT_SIDE = 32
_MAX_STRING = 1000
# Only the formats an archive holds; Pillow's exotic plugins widen the attack surface.
_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP")  # JPEG also opens MPO
_JPEG_FORMATS = frozenset({"JPEG", "MPO"})
_EXIFREAD_FORMATS = frozenset({"JPEG", "MPO", "TIFF", "WEBP"})
# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose).
_TRANSPOSE = dict(zip(range(2, 9), (
    Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180, Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
), strict=True))  # fmt: skip
# The bytes that may follow 0xFF inside entropy-coded data: stuffing, RSTn and fill.
_IN_SCAN_AFTER_FF = np.zeros(256, dtype=bool)
_IN_SCAN_AFTER_FF[[0x00, *range(0xD0, 0xD8), 0xFF]] = True
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
    (b"GIF8", "GIF"), (b"BM", "BMP"),
)  # fmt: skip
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")
# NUL padding and other C0 controls are never text in EXIF, and PostgreSQL rejects NUL.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINK_MESSAGE = "a symbolic link appeared here since the walk; links are not followed"

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


@dataclass(frozen=True, slots=True)
class _Content:
    """The bytes of a file as read in one consistent pass."""

    size: int
    mtime_ns: int
    sha256: str
    head: bytes  # the first bytes, for naming what a file that is not an image is
    data: bytes | None  # None when the file is too large to hold in memory


class _Unusable(Exception):
    """Carry a human reason why a file cannot be inventoried as an image."""


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
        return Examination(rel_path, None, None, None, _LINK_MESSAGE, None)
    try:
        content = _read_stable(path)
    except _Unusable as exc:
        return Examination(rel_path, None, None, None, str(exc), None)
    except OSError as exc:
        return Examination(rel_path, None, None, None, _describe_os_error(exc), None)
    error: str | None = None
    facts: ImageFacts | None = None
    try:
        if content.size == 0:
            raise _Unusable("empty file (0 bytes)")
        facts = _examine_image(path, content, thumbnail_dir, max_pixels, thumbnail_size)
    except _Unusable as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of one file is reported, not raised
        error = _describe_image_error(exc, content, max_pixels)
    return Examination(rel_path, content.size, content.mtime_ns, content.sha256, error, facts)


def _file_state(path: Path) -> tuple[int, int]:
    """Return (size, mtime_ns) of a regular file, not following a symbolic link."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise _Unusable(_LINK_MESSAGE)
    if not stat.S_ISREG(st.st_mode):
        raise _Unusable("not a regular file")
    return st.st_size, st.st_mtime_ns


def _open_binary(path: Path) -> BinaryIO:
    """Open a file for reading only, refusing a symbolic link swapped in since the walk."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")


def _read_stable(path: Path) -> _Content:
    """Read and hash a file, re-reading when it changes underneath us."""
    for _attempt in range(_READ_ATTEMPTS):
        size, mtime_ns = _file_state(path)
        data: bytes | None = None
        with _open_binary(path) as fh:
            if size <= _IN_MEMORY_LIMIT:
                data = fh.read(size + 1)  # one byte more reveals a file that grew
                digest, head = hashlib.sha256(data).hexdigest(), data[:16]
            else:
                hasher, head = hashlib.sha256(), fh.read(16)
                hasher.update(head)
                while chunk := fh.read(_CHUNK_SIZE):
                    hasher.update(chunk)
                digest = hasher.hexdigest()
        if _file_state(path) == (size, mtime_ns) and (data is None or len(data) == size):
            return _Content(size, mtime_ns, digest, head, data)
    raise _Unusable(f"file changed while being read ({_READ_ATTEMPTS} attempts)")


@contextmanager
def _jpeg_bytes(path: Path, content: _Content) -> Iterator[bytes | mmap.mmap]:
    """Yield the file's bytes, memory-mapped read-only when too large to hold."""
    if content.data is not None:
        yield content.data
        return
    with _open_binary(path) as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield mm


def _examine_image(
    path: Path, content: _Content, thumbnail_dir: str | None, max_pixels: int, thumb_size: int
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
                raise _Unusable(_bomb_message(width * height, max_pixels))
            if width < 1 or height < 1:
                raise _Unusable(f"corrupt {fmt} data: the header gives a size of {width}x{height}")
            frame_count = int(getattr(im, "n_frames", 1))
            has_icc = bool(im.info.get("icc_profile"))
            if fmt in _JPEG_FORMATS:
                display, orientation, pixel_hash = _jpeg_decode(im, path, content)
            else:
                display, orientation, pixel_hash = _full_decode(im)
            metadata = _metadata(im, fmt, path, content)
    metadata["orientation"] = orientation
    # Pillow's tag parser warns, rather than fails, on damaged EXIF/TIFF tags: keep the news.
    tag_trouble = [str(w.message) for w in caught if w.filename.endswith("TiffImagePlugin.py")]
    if tag_trouble:
        metadata.setdefault("metadata_error", _text("; ".join(dict.fromkeys(tag_trouble))))
    display = display.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else display
    fingerprints, note = _fingerprints(display)
    phash = to_hex(fingerprints.phash) if fingerprints else None
    dhash = to_hex(fingerprints.dhash) if fingerprints else None
    if frame_count > 1 and not note:
        note = f"first frame of {frame_count}"
    thumbnail = None
    if thumbnail_dir is not None:
        try:
            thumbnail = _write_thumbnail(display, Path(thumbnail_dir), pixel_hash, thumb_size)
        except OSError as exc:
            # A thumbnail is a convenience; failing to write one must not lose the record.
            metadata["thumbnail_error"] = _describe_os_error(exc)
    return ImageFacts(
        pixel_hash, fmt, width, height, mode, has_icc, frame_count, orientation, metadata,
        phash, dhash, note, thumbnail, fingerprints,
    )  # fmt: skip


def _reduction(width: int, height: int) -> int:
    """Return the largest 1/2^k scale that keeps the image big enough to fingerprint."""
    long_side, short_side = max(width, height), min(width, height)
    for scale in (8, 4, 2):
        if (
            long_side // scale >= _MIN_REDUCED_LONG_SIDE
            and short_side // scale >= 2 * _MIN_FINGERPRINT_SIDE
        ):
            return scale
    return 1


def _orientation(im: Image.Image) -> int:
    """Return the EXIF orientation 1..8, 1 when absent or invalid."""
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - unreadable EXIF means no known orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _jpeg_decode(im: Image.Image, path: Path, content: _Content) -> tuple[Image.Image, int, str]:
    """Decode a JPEG at 1/2..1/8 scale and hash its coded image data without decoding it."""
    orientation = _orientation(im)
    width, height = im.size
    scale = _reduction(width, height)
    display = _turbo_decode(im, content, -(-width // scale), -(-height // scale))
    if display is None:
        im.draft("RGB", (width // scale, height // scale))
        im.load()  # raises OSError on truncated data: LOAD_TRUNCATED_IMAGES stays False
        display = _displayable(im)
    digest = hashlib.sha256(f"jpeg:{orientation}\n".encode())
    with _jpeg_bytes(path, content) as buf:
        spans = _jpeg_spans(buf)
        # libjpeg refuses what this parser refuses, so this only fires if someone has set
        # ImageFile.LOAD_TRUNCATED_IMAGES; a full-size decode is not worth it for that.
        if spans is None:
            raise _Unusable("corrupt JPEG data: the marker structure is broken")
        with memoryview(buf) as view:
            for start, end in spans:
                digest.update(view[start:end])
    return display, orientation, digest.hexdigest()


def _turbo_decode(
    im: Image.Image, content: _Content, width: int, height: int
) -> Image.Image | None:
    """Decode a colour or grayscale JPEG held in memory at a reduced size, None to use Pillow.

    TurboJPEG (simplejpeg) decodes the same libjpeg-turbo stream as Pillow's draft mode in
    about 8% less time (nearest-neighbour chroma upsampling at 1/8 scale, where it cannot
    be seen). Anything it finds wrong, even a warning, hands the file to Pillow, whose
    decode raises the errors the scanner knows how to describe.
    """
    if content.data is None or im.mode not in ("RGB", "L"):
        return None  # too large to hold, or CMYK/Adobe: Pillow converts those
    try:
        pixels = simplejpeg.decode_jpeg(
            content.data,
            colorspace="GRAY" if im.mode == "L" else "RGB",
            fastupsample=True,
            min_width=width,
            min_height=height,
        )
    except ValueError:
        return None
    if pixels.shape[:2] != (height, width):
        return None
    return Image.fromarray(pixels[:, :, 0] if pixels.ndim == 3 and im.mode == "L" else pixels)


def _full_decode(im: Image.Image) -> tuple[Image.Image, int, str]:
    """Decode the first frame fully, hash its pixels and reduce it for fingerprints."""
    im.load()
    orientation = _orientation(im)
    pixel_hash = _pixel_hash(im, orientation)
    display = _displayable(im)
    scale = _reduction(*display.size)
    return (display.reduce(scale) if scale > 1 else display), orientation, pixel_hash


def _pixel_hash(im: Image.Image, orientation: int) -> str:
    """Return the SHA-256 of a decoded frame's mode, size, orientation, palette and pixels."""
    digest = hashlib.sha256(f"pixels:{im.mode}:{im.width}x{im.height}:{orientation}\n".encode())
    if im.mode in ("P", "PA"):
        digest.update(bytes(im.getpalette() or []))
    digest.update(im.tobytes())
    return digest.hexdigest()


def _jpeg_spans(buf: bytes | mmap.mmap) -> list[tuple[int, int]] | None:
    """Return the byte ranges holding a JPEG's coded image, SOI to EOI, minus metadata."""
    n = len(buf)
    if n < 4 or buf[0] != 0xFF or buf[1] != 0xD8:
        return None
    spans = [(0, 2)]
    pos, seen_frame, seen_scan = 2, False, False
    while True:
        pos = buf.find(b"\xff", pos)  # libjpeg also skips stray bytes before a marker
        if pos < 0:
            return None
        while pos < n and buf[pos] == 0xFF:  # fill bytes may pad before any marker
            pos += 1
        if pos >= n:
            return None
        marker, start = buf[pos], pos - 1
        pos += 1
        if marker == 0xD9:
            spans.append((start, pos))
            return spans if seen_frame and seen_scan else None
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # no length and no image content outside a scan
        if pos + 2 > n:
            return None
        end = pos + ((buf[pos] << 8) | buf[pos + 1])
        if end < pos + 2 or end > n:
            return None
        # APP14 "Adobe" decides the colour transform, so it changes decoded pixels; keep it.
        metadata_only = 0xE0 <= marker <= 0xEF and not (
            marker == 0xEE and buf[pos + 2 : pos + 7] == b"Adobe"
        )
        if not (metadata_only or marker == 0xFE):
            spans.append((start, end))
        seen_frame = seen_frame or (0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC))
        pos = end
        if marker == 0xDA:
            seen_scan = True
            found = _scan_end(buf, pos)
            if found is None:
                return None
            spans.append((pos, found))
            pos = found


def _scan_end(buf: bytes | mmap.mmap, pos: int) -> int | None:
    """Return where the entropy-coded data starting at pos ends: the next marker's first 0xFF.

    Inside the data 0xFF is followed by 0x00 (stuffing), RSTn (0xD0-0xD7) or more 0xFF
    (fill); any other byte after 0xFF is a marker. Vectorised over the ~15,000 0xFF bytes of
    a 12 MP photograph, where a regex stopping at each of them takes 60% longer.
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    if pos >= len(data) - 1:
        return None
    ffs = np.flatnonzero(data[pos:-1] == 0xFF) + pos
    markers = ffs[~_IN_SCAN_AFTER_FF[data[ffs + 1]]]
    if not markers.size:
        return None
    end = int(markers[0])
    while end > pos and data[end - 1] == 0xFF:  # fill bytes before the marker belong to it
        end -= 1
    return end


def _displayable(im: Image.Image) -> Image.Image:
    """Return an RGB or L image a viewer would show, flattening alpha onto white."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode.startswith(("I", "F")):
        values = np.asarray(im, dtype=np.float64)
        if im.mode.startswith("I;16"):
            values = values / 257.0
        else:  # 32-bit data has no fixed white point; stretch its range
            low, high = float(values.min()), float(values.max())
            values = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    has_alpha = "A" in im.mode or "a" in im.mode or "transparency" in im.info
    if not has_alpha:
        try:
            return im.convert("L" if im.mode == "1" else "RGB")
        except ValueError:  # e.g. LAB, which Pillow cannot convert: its first band is lightness
            return im.getchannel(0).convert("L")
    rgba = im.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _fingerprints(display: Image.Image) -> tuple[Fingerprints | None, str]:
    """Return the near-duplicate fingerprints of an oriented, reduced image, and a note."""
    if min(display.size) < _MIN_FINGERPRINT_SIDE:
        return None, "too small to fingerprint"
    fingerprints = compute_fingerprints(display)
    if fingerprints is None:
        return None, "too flat to fingerprint"
    return fingerprints, ""


def _write_thumbnail(display: Image.Image, thumbnail_dir: Path, pixel_hash: str, size: int) -> str:
    """Write a JPEG thumbnail once per pixel hash, atomically, and return its relative name."""
    name = f"{pixel_hash[:2]}/{pixel_hash}.jpg"
    target = thumbnail_dir / name
    if target.exists():
        return name
    target.parent.mkdir(parents=True, exist_ok=True)
    thumb = thumbnail_of(display, size)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide thumbnails from the web server
        with os.fdopen(fd, "wb") as fh:
            thumb.save(fh, "JPEG", quality=80)  # RGB or L: the decode made it displayable
        Path(tmp_name).replace(target)  # atomic: concurrent workers never see half a file
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return name


def thumbnail_of(display: Image.Image, size: int) -> Image.Image:
    """Return the picture scaled to fit a size x size square, never enlarged.

    Area averaging (Pillow's BOX filter, like OpenCV's INTER_AREA) is the cheapest
    antialiased reduction: from a 12 MP photograph's 1/8 decode, 40% of the time of
    Image.thumbnail's bicubic filter.
    """
    width, height = display.size
    scale = size / max(width, height)
    if scale >= 1:
        return display
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return display.resize(target, Image.Resampling.BOX)


def _metadata(im: Image.Image, fmt: str, path: Path, content: _Content) -> dict[str, Any]:
    """Return normalised EXIF metadata; bad EXIF leaves it partial, never fails the file."""
    raw: dict[str, Any] = {}
    problem: str | None = None
    if fmt == "TIFF" or (fmt in _EXIFREAD_FORMATS and im.info.get("exif")):
        try:
            with io.BytesIO(content.data) if content.data is not None else _open_binary(path) as fh:
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
        metadata["metadata_error"] = _text(problem)
    return metadata


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn raw EXIF values into the JSON-ready metadata the scanner stores."""
    offset = _text(raw.get("OffsetTimeOriginal")) if "DateTimeOriginal" in raw else None
    capture = _iso_time(_text(raw.get("DateTimeOriginal")), offset) or _iso_time(
        _text(raw.get("DateTime")), None
    )
    exposure = _number(raw.get("ExposureTime"))
    f_number, focal_length, iso = (
        _number(raw.get(k)) for k in ("FNumber", "FocalLength", "ISOSpeedRatings")
    )
    return {
        "capture_time": capture,
        "camera_make": _text(raw.get("Make")),
        "camera_model": _text(raw.get("Model")),
        "lens_model": _text(raw.get("LensModel")),
        "artist": _text(raw.get("Artist")),
        "copyright": _text(raw.get("Copyright")),
        "software": _text(raw.get("Software")),
        "description": _text(raw.get("ImageDescription")),
        "gps_latitude": _gps(raw.get("GPSLatitude"), raw.get("GPSLatitudeRef"), 90),
        "gps_longitude": _gps(raw.get("GPSLongitude"), raw.get("GPSLongitudeRef"), 180),
        "iso": int(iso) if iso is not None and 0 < iso < 10**7 else None,
        "exposure_time": str(exposure.limit_denominator(100_000)) if exposure else None,
        "f_number": round(float(f_number), 2) if f_number else None,
        "focal_length": round(float(focal_length), 2) if focal_length else None,
    }


def _text(value: Any) -> str | None:
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
    if (_text(ref) or "").upper()[:1] in ("S", "W"):
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


def _bomb_message(pixels: int, limit: int) -> str:
    """Describe an image whose header claims more pixels than allowed."""
    return f"decompression bomb: {pixels:,} pixels exceeds the limit of {limit:,}"


def _describe_os_error(exc: OSError) -> str:
    """Describe a file-access failure for a person."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link
        return _LINK_MESSAGE
    if isinstance(exc, FileNotFoundError):
        return "file not found (removed or renamed during the scan)"
    return f"unreadable: {exc.strerror or exc}"


def _describe_image_error(exc: Exception, content: _Content, max_pixels: int) -> str:
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
