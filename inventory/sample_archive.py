"""Build the sample image archive and the benchmark camera corpus from real photographs."""

from __future__ import annotations

import math
import os
import shutil
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import piexif
from PIL import Image

from governance.files import atomic_write

PHOTOS_DIR = Path(__file__).resolve().parent.parent / "samples" / "photos"

# The photographs in samples/photos (see LICENSES.md there), in a fixed order: the corpus
# generator cycles through them, so reordering changes every generated file.
PHOTO_NAMES: tuple[str, ...] = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "camera",
    "coins",
    "retina",
    "brick",
    "gravel",
    "grass",
)

# Kept in samples/photos for the face tests and the face benchmark, not used by the archive.
FACE_PHOTO_NAMES: tuple[str, ...] = ("grace_hopper",)

SOURCE_NAMES: tuple[str, ...] = ("film_archive", "newsroom", "web_team")

# Fixed clocks so that a rebuild is stat-identical, not only byte-identical; each source
# gets its own era so the demo shows plausible, distinct ages.
_SOURCE_EPOCHS: dict[str, datetime] = {
    "film_archive": datetime(2019, 6, 3, 9, 0, tzinfo=UTC),
    "newsroom": datetime(2024, 3, 11, 9, 0, tzinfo=UTC),
    "web_team": datetime(2024, 9, 2, 9, 0, tzinfo=UTC),
}

BAD_FILES_DIR = "incoming"
NON_UTF8_NAME = os.fsdecode(b"caf\xe9.jpg")
BOMB_SIDE = 20000


@dataclass(frozen=True)
class ArchiveEntry:
    """One file of the sample archive and how it was made."""

    source: str
    # Relative to the source root, "/" separators (as in the findings export).
    path: str
    # The sample photograph it shows (a stem in PHOTO_NAMES).
    photo: str
    # Its relation to the photograph's master, in the findings-export vocabulary.
    relation: str
    # "source/path" of the file it was made from; None for masters.
    made_from: str | None
    # The operation: copy, exif_edit, resize_half, thumbnail_160, png, jpeg_q60, crop_20,
    # grayscale.
    made_by: str

    @property
    def key(self) -> str:
        """Return "source/path", the form made_from uses."""
        return f"{self.source}/{self.path}"


def _master(photo: str) -> str:
    return f"film_archive/stills/{photo}.jpg"


def _layout() -> tuple[ArchiveEntry, ...]:
    """Return every regular file of the archive, in build order (bad files excluded)."""
    entries = [
        ArchiveEntry("film_archive", f"stills/{p}.jpg", p, "master", None, "copy")
        for p in PHOTO_NAMES
    ]
    derived = [
        # film_archive keeps a second byte copy of two stills, as backups tend to.
        ("film_archive", "backup/2019-06/astronaut.jpg", "astronaut", "exact_copy", "copy"),
        ("film_archive", "backup/2019-06/rocket.jpg", "rocket", "exact_copy", "copy"),
        # newsroom: byte copies under other names.
        ("newsroom", "published/2015/collins_portrait.jpg", "astronaut", "exact_copy", "copy"),
        ("newsroom", "features/cafe_cup.jpg", "coffee", "exact_copy", "copy"),
        ("newsroom", "desk/IMG_0412.JPG", "chelsea", "exact_copy", "copy"),
        # Metadata-only edits: new Artist/Copyright, scan data untouched.
        ("newsroom", "captioned/collins_captioned.jpg", "astronaut", "same_pixels", "exif_edit"),
        ("newsroom", "captioned/dscovr_launch.jpg", "rocket", "same_pixels", "exif_edit"),
        # Re-exports.
        ("newsroom", "web/cafe_cup_half.jpg", "coffee", "resized", "resize_half"),
        ("newsroom", "web/deep_field_half.jpg", "hubble_deep_field", "resized", "resize_half"),
        ("newsroom", "converted/chelsea.png", "chelsea", "format_converted", "png"),
        ("newsroom", "web/camera_q60.jpg", "camera", "reencoded", "jpeg_q60"),
        ("newsroom", "crops/coins_detail.jpg", "coins", "cropped", "crop_20"),
        ("newsroom", "mono/dscovr_launch_bw.jpg", "rocket", "grayscale", "grayscale"),
        # web_team.
        ("web_team", "images/hero.jpg", "astronaut", "exact_copy", "copy"),
        ("web_team", "images/launch.jpg", "rocket", "exact_copy", "copy"),
        ("web_team", "thumbs/astronaut_160.jpg", "astronaut", "resized", "thumbnail_160"),
        ("web_team", "thumbs/coffee_160.jpg", "coffee", "resized", "thumbnail_160"),
    ]
    entries += [
        ArchiveEntry(source, path, photo, relation, _master(photo), made_by)
        for source, path, photo, relation, made_by in derived
    ]
    # The web team took the newsroom's PNG conversion as it was.
    entries.append(
        ArchiveEntry(
            "web_team",
            "assets/chelsea.png",
            "chelsea",
            "format_converted",
            "newsroom/converted/chelsea.png",
            "copy",
        )
    )
    return tuple(entries)


ARCHIVE_LAYOUT: tuple[ArchiveEntry, ...] = _layout()

# What the bad files are, for tests and the demo (all under newsroom/incoming/).
BAD_FILES: dict[str, str] = {
    "empty.jpg": "0 bytes",
    "truncated.jpg": "first 40% of samples/photos/retina.jpg",
    "notes.jpg": "a text file named .jpg",
    "bomb.png": f"1-bit PNG whose header says {BOMB_SIDE}x{BOMB_SIDE}",
    "missing_link.jpg": "broken symlink to does-not-exist.jpg",
    "loop_a.jpg": "symlink to loop_b.jpg",
    "loop_b.jpg": "symlink to loop_a.jpg",
    NON_UTF8_NAME: "byte copy of film_archive/stills/coins.jpg, name not valid UTF-8",
}


def build_sample_archive(dest: Path, *, with_bad_files: bool = True) -> dict[str, Path]:
    """Build the three-source sample archive under dest and return each source's root."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    roots = {name: dest / name for name in SOURCE_NAMES}
    for root in roots.values():
        _remove_tree(root)
        root.mkdir()

    written: dict[str, Path] = {}
    for index, entry in enumerate(ARCHIVE_LAYOUT):
        target = roots[entry.source] / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.made_from is None:
            origin = PHOTOS_DIR / f"{entry.photo}.jpg"
        else:
            origin = written[entry.made_from]
        _make(entry.made_by, origin, target)
        _set_mtime(target, _SOURCE_EPOCHS[entry.source] + timedelta(minutes=index))
        written[entry.key] = target

    if with_bad_files:
        _write_bad_files(roots["newsroom"] / BAD_FILES_DIR, roots["film_archive"])

    for name, root in roots.items():
        _set_tree_mtimes(root, _SOURCE_EPOCHS[name] + timedelta(days=1))
    return roots


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _make(made_by: str, origin: Path, target: Path) -> None:
    """Write target from origin by the named operation."""
    if made_by == "copy":
        shutil.copyfile(origin, target)
        return
    if made_by == "exif_edit":
        _edit_credit(origin, target)
        return
    with Image.open(origin) as image:
        image.load()
        # Editors' tools keep camera metadata on exports; web thumbnails and PNG
        # conversions typically drop it, so only the former carry it over.
        exif = image.info.get("exif", b"")
        if made_by == "resize_half":
            size = (round(image.width / 2), round(image.height / 2))
            image.resize(size, Image.Resampling.LANCZOS).save(target, quality=90, exif=exif)
        elif made_by == "thumbnail_160":
            thumb = image.copy()
            thumb.thumbnail((160, 160), Image.Resampling.LANCZOS)
            thumb.save(target, quality=85)
        elif made_by == "png":
            image.save(target, format="PNG")
        elif made_by == "jpeg_q60":
            image.save(target, quality=60, exif=exif)
        elif made_by == "crop_20":
            box = (
                round(image.width * 0.2),
                round(image.height * 0.2),
                round(image.width * 0.8),
                round(image.height * 0.8),
            )
            image.crop(box).save(target, quality=90, exif=exif)
        elif made_by == "grayscale":
            image.convert("L").save(target, quality=90, exif=exif)
        else:
            raise ValueError(f"unknown operation {made_by!r}")


def _edit_credit(origin: Path, target: Path) -> None:
    """Rewrite Artist and Copyright without touching the compressed image data."""
    data = origin.read_bytes()
    exif = piexif.load(data)
    exif["0th"][piexif.ImageIFD.Artist] = b"Newsroom picture desk"
    exif["0th"][piexif.ImageIFD.Copyright] = b"Licensed to the newsroom for editorial use"
    # piexif.insert swaps the APP1 segment only; re-saving through Pillow would re-encode.
    piexif.insert(piexif.dump(exif), data, str(target))


def _write_bad_files(incoming: Path, film_archive: Path) -> None:
    """Write the files a scan must survive: empty, truncated, mislabelled, bombs, bad links."""
    incoming.mkdir(parents=True, exist_ok=True)
    when = _SOURCE_EPOCHS["newsroom"] + timedelta(days=2)

    (incoming / "empty.jpg").write_bytes(b"")
    real = (PHOTOS_DIR / "retina.jpg").read_bytes()
    (incoming / "truncated.jpg").write_bytes(real[: len(real) * 4 // 10])
    (incoming / "notes.jpg").write_text(
        "Picture desk notes, not an image.\nCall the agency about the DSCOVR launch set.\n",
        encoding="utf-8",
    )
    _write_png_bomb(incoming / "bomb.png", BOMB_SIDE)
    for name in ("empty.jpg", "truncated.jpg", "notes.jpg", "bomb.png"):
        _set_mtime(incoming / name, when)

    links = {
        "missing_link.jpg": "does-not-exist.jpg",
        "loop_a.jpg": "loop_b.jpg",
        "loop_b.jpg": "loop_a.jpg",
    }
    for name, target in links.items():
        (incoming / name).symlink_to(target)
        _set_mtime(incoming / name, when)

    odd = incoming / NON_UTF8_NAME
    try:
        shutil.copyfile(film_archive / "stills" / "coins.jpg", odd)
    except (OSError, UnicodeEncodeError):
        # Some filesystems (APFS, most network shares) refuse names that are not UTF-8.
        return
    _set_mtime(odd, when)


def _write_png_bomb(path: Path, side: int) -> None:
    """Write a valid all-black 1-bit PNG of side x side pixels, streaming its rows."""
    # Pillow's Image.new("L", (20000, 20000)) needs 400 MB in memory and deflates to about
    # 390 KB; written by hand at 1 bit per pixel it is about 50 KB and built in constant
    # memory, yet still decodes to 400 M pixels.
    row = b"\x00" + bytes(math.ceil(side / 8))
    compressor = zlib.compressobj(9)
    chunks = []
    rows_left = side
    while rows_left:
        batch = min(rows_left, 1000)
        chunks.append(compressor.compress(row * batch))
        rows_left -= batch
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_png_chunk(b"IHDR", header))
        out.write(_png_chunk(b"IDAT", b"".join(chunks)))
        out.write(_png_chunk(b"IEND", b""))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _set_mtime(path: Path, when: datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def _set_tree_mtimes(root: Path, when: datetime) -> None:
    """Give every directory under root (and root) the same fixed mtime."""
    # Bottom-up, because setting a child's time does not touch its parent but creating
    # entries did; everything is created by now.
    for directory, _subdirs, _files in os.walk(root, topdown=False):
        _set_mtime(Path(directory), when)


def camera_size(megapixels: float) -> tuple[int, int]:
    """Return the landscape 4:3 (width, height) of a sensor with this many megapixels."""
    height = round(math.sqrt(megapixels * 1_000_000 * 3 / 4))
    return round(height * 4 / 3), height


_CAMERAS: tuple[tuple[str, str], ...] = (
    ("Canon", "Canon EOS 80D"),
    ("NIKON CORPORATION", "NIKON D7200"),
    ("SONY", "ILCE-6400"),
    ("FUJIFILM", "X-T30"),
    ("Apple", "iPhone 12"),
    ("samsung", "SM-G991B"),
)
_CORPUS_EPOCH = datetime(2023, 1, 7, 8, 0, tzinfo=UTC)


def corpus_file_name(index: int, *, seed: int = 0) -> str:
    """Return the file name make_camera_corpus gives the index-th file for this seed."""
    photo = PHOTO_NAMES[(index + seed) % len(PHOTO_NAMES)]
    return f"cam_{seed}_{index:05d}_{photo}.jpg"


def make_camera_corpus(
    dest: Path, count: int, *, megapixels: float = 12.0, seed: int = 0
) -> list[Path]:
    """Write count distinct camera-size JPEGs derived from the sample photos into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    size = camera_size(megapixels)
    paths = []
    for index in range(count):
        path = dest / corpus_file_name(index, seed=seed)
        if not path.exists():
            _write_corpus_file(path, index, seed=seed, size=size)
        paths.append(path)
    return paths


def _write_corpus_file(path: Path, index: int, *, seed: int, size: tuple[int, int]) -> None:
    """Write one upscaled, cropped, colour-shifted, grain-added frame of one sample photo."""
    # One generator per file, so the first n files do not depend on count and a larger
    # corpus extends a smaller one.
    rng = np.random.default_rng([seed, index])
    photo = PHOTO_NAMES[(index + seed) % len(PHOTO_NAMES)]
    width, height = size
    with Image.open(PHOTOS_DIR / f"{photo}.jpg") as opened:
        source = opened.convert("RGB")

    # A random 4:3 window covering 60-100% of the largest one that fits, resampled
    # straight to sensor size: resize(box=...) never materialises the full upscale.
    full_w = min(source.width, source.height * 4 / 3)
    full_h = full_w * 3 / 4
    scale = rng.uniform(0.6, 1.0)
    win_w, win_h = full_w * scale, full_h * scale
    left = rng.uniform(0, source.width - win_w)
    top = rng.uniform(0, source.height - win_h)
    frame = source.resize(
        size, Image.Resampling.BICUBIC, box=(left, top, left + win_w, top + win_h)
    )

    # Per-channel gain plus a brightness offset, as white balance and exposure differ.
    offset = rng.uniform(-12, 12)
    lut: list[int] = []
    for gain in rng.uniform(0.92, 1.08, size=3):
        lut += [min(255, max(0, round(v * gain + offset))) for v in range(256)]
    frame = frame.point(lut)

    # Sensor grain: without it an upscaled 640 px photo compresses to a fraction of a real
    # camera file, which would flatter hashing and decoding benchmarks.
    pixels = np.array(frame)
    del frame
    for start in range(0, height, 256):
        block = pixels[start : start + 256]
        noise = rng.standard_normal(block.shape[:2] + (1,), dtype=np.float32) * 3.0
        grained = block.astype(np.int16) + noise.round().astype(np.int16)
        np.clip(grained, 0, 255, out=grained)
        block[...] = grained
    frame = Image.fromarray(pixels)
    del pixels

    make, model = _CAMERAS[int(rng.integers(len(_CAMERAS)))]
    taken = _CORPUS_EPOCH + timedelta(seconds=index * 611 + int(rng.integers(600)))
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    exif = piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Make: make.encode(),
                piexif.ImageIFD.Model: model.encode(),
                piexif.ImageIFD.DateTime: stamp,
                piexif.ImageIFD.ImageDescription: f"Provena benchmark frame of {photo}".encode(),
            },
            "Exif": {piexif.ExifIFD.DateTimeOriginal: stamp},
        }
    )
    # Whole or not at all, so an interrupted run never leaves a partial file that a later
    # run would skip as already made.
    with atomic_write(path) as handle:
        frame.save(handle, format="JPEG", quality=90, exif=exif)
    _set_mtime(path, taken)
