"""Hostile files for inventory.imaging: forged headers, decompression bombs, looping and
oversized TIFF/EXIF structures, wrong magic, truncation, links swapped in, and files that take
too long. Each must come back as a per-file error (or a recorded image), never an exception,
and a bomb must be refused from its header, without decoding."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile
from skimage import data as skdata

from inventory.imaging import examine, metadata
from inventory.imaging.examine import Examination, examine_file

LIMIT = 20_000_000
HYPOTHESIS = settings(
    max_examples=150,
    # Far above what any of these files takes; only a hang or a full decode of a bomb gets near.
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _photo_bytes(fmt: str, size: tuple[int, int] = (96, 64), **options) -> bytes:
    """Return a real photograph (scikit-image's coffee), reduced and saved in a format."""
    im = Image.fromarray(skdata.coffee()).resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


JPEG = _photo_bytes("JPEG", quality=85)
PNG = _photo_bytes("PNG")
TIFF = _photo_bytes("TIFF")
GIF = _photo_bytes("GIF")
WEBP = _photo_bytes("WEBP")
BMP = _photo_bytes("BMP")


# --- crafted structures ----------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """Return a valid PNG header (CRCs right) claiming a size, with a few bytes of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """Return the real JPEG with its frame header (SOF0) rewritten to claim a size."""
    raw = bytearray(JPEG)
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(raw)


def gif_claiming(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + descriptor + b"\x02\x02\x44\x01\x00;"


def bmp_claiming(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + b"\0" * 16


def webp_claiming(width: int, height: int) -> bytes:
    """Return an extended WebP (VP8X) whose canvas claims a size, with no image data."""
    vp8x = b"\0\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tiff_file(
    entries: list[tuple[int, int, int, int]], next_ifd: int = 0, tail: bytes = b""
) -> bytes:
    """Return a little-endian TIFF with one IFD at offset 8 (tag, type, count, value)."""
    ifd = struct.pack("<H", len(entries))
    ifd += b"".join(struct.pack("<HHII", *entry) for entry in entries)
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", next_ifd) + tail


def tiff_image(width: int, height: int, next_ifd: int = 0, extra=()) -> bytes:
    """Return an uncompressed 8-bit grey TIFF claiming a size (16 bytes of pixels follow)."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 0),  # strip offset, patched below
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, 16),
        *extra,
    ]
    data_at = 8 + 2 + 12 * len(entries) + 4
    entries[5] = (273, 4, 1, data_at)
    return tiff_file(entries, next_ifd, b"\x80" * 16)


def jpeg_with_exif(tiff_block: bytes) -> bytes:
    """Return the real JPEG with an APP1 EXIF block inserted after its SOI marker."""
    app1 = b"Exif\0\0" + tiff_block
    return JPEG[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + JPEG[2:]


CRAFTED_BOMBS = {
    "png": png_claiming(100_000, 100_000),
    "jpg": jpeg_claiming(65_000, 65_000),
    "gif": gif_claiming(65_535, 65_535),
    "bmp": bmp_claiming(100_000, 100_000),
    "webp": webp_claiming(16_384, 16_384),
    "tif": tiff_image(100_000, 100_000),
}


@contextmanager
def no_decoding() -> Iterator[None]:
    """Fail the test if any image data is decoded."""
    real = ImageFile.ImageFile.load

    def refuse(self: ImageFile.ImageFile):
        raise AssertionError("a bomb was decoded")

    ImageFile.ImageFile.load = refuse
    try:
        yield
    finally:
        ImageFile.ImageFile.load = real


def examine_bytes(folder: Path, name: str, content: bytes, **options) -> Examination:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)
    return examine_file(
        str(folder),
        name,
        thumbnail_dir=None,
        max_pixels=options.pop("max_pixels", LIMIT),
        **options,
    )


def assert_recorded(result: Examination) -> None:
    """Check the outcome is a well-formed record: an error, or an image with JSON metadata."""
    assert isinstance(result, Examination)
    assert (result.error is None) == (result.image is not None)
    if result.image is not None:
        json.dumps(result.image.metadata)


# --- decompression bombs -----------------------------------------------------------------------


@pytest.mark.parametrize("extension", sorted(CRAFTED_BOMBS))
def test_a_forged_huge_size_is_refused_from_the_header(
    tmp_path: Path, extension: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a scanning worker, where Pillow's limit has been raised to the configured one. (The
    # WebP plugin builds its decoder on opening: a forged header under Pillow's own limit is
    # then "corrupt WebP data", an error just the same.)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", LIMIT)
    with no_decoding():
        result = examine_bytes(tmp_path / "store", f"bomb.{extension}", CRAFTED_BOMBS[extension])

    assert result.error is not None
    assert result.error.startswith("decompression bomb: ")
    assert result.error.endswith(f"exceeds the limit of {LIMIT:,}")
    assert result.sha256 is not None  # the bytes are still accounted for


def test_the_configured_pixel_limit_is_the_guard_below_pillows_default(tmp_path: Path) -> None:
    with no_decoding():
        result = examine_bytes(
            tmp_path / "store", "a.png", png_claiming(5_000, 5_000), max_pixels=1000
        )

    assert result.error == "decompression bomb: 25,000,000 pixels exceeds the limit of 1,000"


def test_pillows_own_limit_is_raised_to_the_configured_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # below the 96 x 64 sample

    result = examine_bytes(tmp_path / "store", "a.png", PNG, max_pixels=LIMIT)

    assert result.error is None and result.image is not None
    assert Image.MAX_IMAGE_PIXELS == LIMIT


@HYPOTHESIS
@given(
    kind=st.sampled_from(["png", "jpg", "gif", "bmp", "tif"]),
    width=st.integers(1, 65_535),
    height=st.integers(1, 65_535),
)
def test_any_claimed_size_over_the_limit_is_a_bomb_and_under_it_never_crashes(
    tmp_path: Path, kind: str, width: int, height: int
) -> None:
    makers = {
        "png": png_claiming,
        "jpg": jpeg_claiming,
        "gif": gif_claiming,
        "bmp": bmp_claiming,
        "tif": tiff_image,
    }
    content = makers[kind](width, height)

    if width * height > LIMIT:
        with no_decoding():
            result = examine_bytes(tmp_path / "store", f"claimed.{kind}", content)
        assert result.error is not None and result.error.startswith("decompression bomb")
    else:
        result = examine_bytes(tmp_path / "store", f"claimed.{kind}", content)
        assert_recorded(result)


# --- TIFF and EXIF structures ---------------------------------------------------------------------


def test_a_tiff_whose_ifd_chain_loops_is_recorded(tmp_path: Path) -> None:
    result = examine_bytes(tmp_path / "store", "loop.tif", tiff_image(4, 4, next_ifd=8))

    assert_recorded(result)
    assert result.image is not None and result.image.frame_count == 1


def test_a_tiff_tag_claiming_two_gigabytes_is_skipped_not_read(tmp_path: Path) -> None:
    huge = (0x010E, 2, 0x7FFF_FFFF, 8)  # ImageDescription, ASCII, 2 GiB "at" the header
    result = examine_bytes(tmp_path / "store", "huge.tif", tiff_image(4, 4, extra=[huge]))

    assert result.image is not None
    assert "larger than file" in (result.image.metadata.get("metadata_error") or "")


def test_exif_whose_sub_ifds_point_back_at_themselves_is_recorded(tmp_path: Path) -> None:
    # IFD0 names itself as its EXIF and GPS sub-IFDs and as the next IFD.
    looping = tiff_file([(0x0110, 2, 4, 0x41414141), (0x8769, 4, 1, 8), (0x8825, 4, 1, 8)], 8)
    result = examine_bytes(tmp_path / "store", "loop.jpg", jpeg_with_exif(looping))

    assert_recorded(result)
    assert result.image is not None and (result.image.width, result.image.height) == (96, 64)


TIFF_TYPES = st.integers(0, 13)  # 1..12 are defined; 0 and 13 are not
TAGS = st.sampled_from(
    [256, 257, 258, 259, 262, 273, 277, 278, 279, 0x010E, 0x010F, 0x0112, 0x8769, 0x8825, 0x927C]
)


@st.composite
def ifd_entries(draw: st.DrawFn) -> list[tuple[int, int, int, int]]:
    """Draw IFD entries with any types, counts up to 2^32-1 and offsets anywhere."""
    count = st.one_of(st.integers(0, 16), st.integers(0, 2**32 - 1))
    offset = st.one_of(st.integers(0, 256), st.integers(0, 2**32 - 1))
    return draw(st.lists(st.tuples(TAGS, TIFF_TYPES, count, offset), min_size=1, max_size=12))


@HYPOTHESIS
@given(entries=ifd_entries(), next_ifd=st.sampled_from([0, 8, 2**32 - 1]), in_jpeg=st.booleans())
def test_arbitrary_tiff_and_exif_directories_never_raise(
    tmp_path: Path, entries: list[tuple[int, int, int, int]], next_ifd: int, in_jpeg: bool
) -> None:
    block = tiff_file(entries, next_ifd, b"\x80" * 64)
    name, content = ("exif.jpg", jpeg_with_exif(block)) if in_jpeg else ("ifd.tif", block)

    result = examine_bytes(tmp_path / "store", name, content)

    assert_recorded(result)
    if in_jpeg:  # the pixels are fine whatever the EXIF says
        assert result.image is not None


# --- wrong magic and truncation -----------------------------------------------------------------


SAMPLES = {"jpg": JPEG, "png": PNG, "tif": TIFF, "gif": GIF, "webp": WEBP, "bmp": BMP}


@pytest.mark.parametrize("extension", sorted(SAMPLES))
def test_the_samples_themselves_are_images(tmp_path: Path, extension: str) -> None:
    result = examine_bytes(tmp_path / "store", f"sample.{extension}", SAMPLES[extension])

    assert result.error is None and result.image is not None


@pytest.mark.parametrize(
    ("extension", "content", "error"),
    [
        ("jpg", b"\xff\xd8\xff" + b"\0" * 200, "corrupt JPEG data: the header could not be read"),
        (
            "png",
            b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
            "corrupt PNG data: the header could not be read",
        ),
        ("tif", b"II*\0" + b"\xff" * 40, "corrupt TIFF data: the header could not be read"),
        ("gif", b"GIF89a", "corrupt GIF data: the header could not be read"),
        ("jpg", b"%PDF-1.7\n" + b"x" * 100, "not an image: "),
        ("png", b"PK\x03\x04" + b"\0" * 100, "not an image: "),
    ],
)
def test_a_wrong_or_broken_magic_number_is_an_error(
    tmp_path: Path, extension: str, content: bytes, error: str
) -> None:
    result = examine_bytes(tmp_path / "store", f"file.{extension}", content)

    assert result.error is not None and result.error.startswith(error)
    assert result.image is None


@HYPOTHESIS
@given(data=st.data(), extension=st.sampled_from(sorted(SAMPLES)))
def test_every_format_cut_short_anywhere_is_recorded(
    tmp_path: Path, data: st.DataObject, extension: str
) -> None:
    whole = SAMPLES[extension]
    cut = data.draw(st.integers(1, len(whole) - 1), label="cut")

    result = examine_bytes(tmp_path / "store", f"cut.{extension}", whole[:cut])

    assert_recorded(result)
    assert result.size == cut


@HYPOTHESIS
@given(
    data=st.data(),
    extension=st.sampled_from(sorted(SAMPLES)),
    magic=st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\0", b"MM\0*", b"GIF89a"]),
)
def test_any_format_behind_another_formats_magic_is_recorded(
    tmp_path: Path, data: st.DataObject, extension: str, magic: bytes
) -> None:
    whole = SAMPLES[extension]
    result = examine_bytes(tmp_path / "store", f"swapped.{extension}", magic + whole[len(magic) :])

    assert_recorded(result)


# --- links and time -----------------------------------------------------------------------------


def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside.png"
    secret.write_bytes(PNG)
    store = tmp_path / "store"
    store.mkdir()
    (store / "a.png").symlink_to(secret)

    result = examine_file(str(store), "a.png", thumbnail_dir=None, max_pixels=LIMIT)

    assert result.error == "a symbolic link appeared here since the walk; links are not followed"
    assert result.sha256 is None and result.image is None


def test_a_folder_swapped_for_a_link_after_the_walk_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.png").write_bytes(PNG)
    store = tmp_path / "store"
    store.mkdir()
    (store / "folder").symlink_to(outside)

    result = examine_file(str(store), "folder/a.png", thumbnail_dir=None, max_pixels=LIMIT)

    assert result.error == "a symbolic link appeared here since the walk; links are not followed"
    assert result.sha256 is None


def test_a_file_over_its_time_limit_is_an_error_and_the_next_file_is_examined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "slow.jpg").write_bytes(jpeg_with_exif(tiff_file([(0x010F, 2, 4, 0x41414141)])))
    (store / "fine.png").write_bytes(PNG)

    def stuck(*args, **kwargs) -> None:  # a parser caught in a loop (PNGs never reach it)
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(metadata.exifread, "process_file", stuck)

    slow, fine = examine.examine_batch(
        str(store), ["slow.jpg", "fine.png"], thumbnail_dir=None, max_pixels=LIMIT,
        deadline_seconds=0.5,
    )  # fmt: skip

    assert slow.error == "gave up after 0.5 s (the time limit for one file)"
    assert fine.error is None and fine.image is not None
