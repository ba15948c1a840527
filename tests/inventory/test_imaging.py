"""Tests for inventory.imaging: one file examined for the scanner."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import imagehash
import numpy as np
import piexif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, PngImagePlugin
from skimage import data as skdata

from inventory.imaging import decode, reading
from inventory.imaging.examine import IMAGE_EXTENSIONS, Examination, examine_batch, examine_file

LIMIT = 100_000_000


def photo(name: str = "astronaut", size: tuple[int, int] | None = None) -> Image.Image:
    """Return a real photograph from scikit-image as a Pillow image."""
    im = Image.fromarray(getattr(skdata, name)())
    return im.resize(size, Image.Resampling.LANCZOS) if size else im


def save(im: Image.Image, path: Path, **options: object) -> Path:
    """Save an image and return its path."""
    im.save(path, **options)
    return path


def save_bytes(path: Path, content: bytes) -> Path:
    """Write bytes to a file and return its path."""
    path.write_bytes(content)
    return path


def exif_bytes(
    zeroth: dict | None = None, exif: dict | None = None, gps: dict | None = None
) -> bytes:
    """Return an EXIF block made with piexif."""
    return piexif.dump({"0th": zeroth or {}, "Exif": exif or {}, "GPS": gps or {}})


def examine(path: Path, thumbnail_dir: Path | None = None, max_pixels: int = LIMIT) -> Examination:
    """Examine a file, taking its own folder as the source root."""
    thumbs = str(thumbnail_dir) if thumbnail_dir else None
    return examine_file(str(path.parent), path.name, thumbnail_dir=thumbs, max_pixels=max_pixels)


def distance(a: str, b: str) -> int:
    """Return the Hamming distance between two hex hashes."""
    return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Return an empty folder standing for a scanned store."""
    folder = tmp_path / "archive"
    folder.mkdir()
    return folder


def test_image_extensions_are_lower_case_suffixes() -> None:
    assert {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp"} == set(
        IMAGE_EXTENSIONS
    )


def test_jpeg_gives_dimensions_hashes_and_thumbnail(archive: Path, tmp_path: Path) -> None:
    # Large enough that the decode happens at reduced size (1/4 here).
    path = save(photo("coffee", (2400, 1600)), archive / "coffee.jpg", quality=90)
    thumbs = tmp_path / "thumbs"

    result = examine(path, thumbs)

    facts = result.image
    assert result.error is None and facts is not None
    assert (result.path, result.size, result.mtime_ns) == (
        "coffee.jpg",
        path.stat().st_size,
        path.stat().st_mtime_ns,
    )
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (facts.format, facts.width, facts.height, facts.mode) == ("JPEG", 2400, 1600, "RGB")
    assert (facts.frame_count, facts.orientation, facts.fingerprint_note) == (1, 1, "")
    assert len(facts.pixel_hash) == 64 and len(facts.phash) == 16 and len(facts.dhash) == 16
    assert distance(facts.phash, str(imagehash.phash(Image.open(path)))) <= 4  # full decode
    assert facts.thumbnail == f"{facts.pixel_hash[:2]}/{facts.pixel_hash}.jpg"
    with Image.open(thumbs / facts.thumbnail) as thumb:
        assert (thumb.format, thumb.mode, max(thumb.size)) == ("JPEG", "RGB", 320)
    assert [p.name for p in (thumbs / facts.pixel_hash[:2]).iterdir()] == [
        f"{facts.pixel_hash}.jpg"
    ]


def test_jpeg_is_decoded_at_an_eighth_of_its_size(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(photo(size=(4000, 3000)), archive / "big.jpg", quality=90)
    decoded: list[tuple[int, int]] = []
    real_load, real_turbo = ImageFile.ImageFile.load, decode.simplejpeg.decode_jpeg

    def spy(self: ImageFile.ImageFile) -> object:
        decoded.append(self.size)
        return real_load(self)

    def turbo_spy(*args: object, **kwargs: object) -> np.ndarray:
        pixels = real_turbo(*args, **kwargs)
        decoded.append((pixels.shape[1], pixels.shape[0]))
        return pixels

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    monkeypatch.setattr(decode.simplejpeg, "decode_jpeg", turbo_spy)
    facts = examine(path).image

    assert set(decoded) == {(500, 375)}  # whoever decodes, it never sees the full size
    assert (facts.width, facts.height) == (4000, 3000)


@pytest.mark.parametrize(("mode", "turbo_used"), [("RGB", True), ("L", True), ("CMYK", False)])
def test_turbojpeg_and_pillow_decodes_give_the_same_facts(
    archive: Path, monkeypatch: pytest.MonkeyPatch, mode: str, turbo_used: bool
) -> None:
    path = save(photo(size=(1600, 1200)).convert(mode), archive / f"{mode}.jpg", quality=90)
    calls: list[str] = []
    real_turbo = decode.simplejpeg.decode_jpeg

    def turbo_spy(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(str(kwargs.get("colorspace")))
        return real_turbo(*args, **kwargs)

    monkeypatch.setattr(decode.simplejpeg, "decode_jpeg", turbo_spy)
    turbo = examine(path).image
    assert bool(calls) == turbo_used  # CMYK goes to Pillow, which converts it
    monkeypatch.setattr(decode, "_turbo_decode", lambda *args: None)  # Pillow's draft decode
    pillow = examine(path).image
    assert turbo.pixel_hash == pillow.pixel_hash
    assert distance(turbo.phash, pillow.phash) <= 2 and distance(turbo.dhash, pillow.dhash) <= 4


def test_result_is_picklable_and_metadata_is_json(archive: Path) -> None:
    path = save(photo(), archive / "a.jpg", exif=exif_bytes({piexif.ImageIFD.Artist: b"Ann"}))

    result = examine(path)

    assert pickle.loads(pickle.dumps(result)) == result
    assert json.loads(json.dumps(result.image.metadata))["artist"] == "Ann"


def test_existing_thumbnail_is_kept(archive: Path, tmp_path: Path) -> None:
    path = save(photo(), archive / "a.jpg")
    first = examine(path, tmp_path / "thumbs")
    target = tmp_path / "thumbs" / first.image.thumbnail
    target.write_bytes(b"kept")

    again = examine(path, tmp_path / "thumbs")

    assert again.image.thumbnail == first.image.thumbnail
    assert target.read_bytes() == b"kept"


def test_thumbnail_dir_inside_the_scanned_root_is_refused(archive: Path) -> None:
    path = save(photo(), archive / "a.jpg")

    with pytest.raises(ValueError, match="inside the scanned root"):
        examine(path, archive / ".thumbs")
    assert not (archive / ".thumbs").exists()


def test_path_outside_the_root_is_an_error(archive: Path, tmp_path: Path) -> None:
    save(photo(), tmp_path / "outside.jpg")

    result = examine_file(str(archive), "../outside.jpg", thumbnail_dir=None, max_pixels=LIMIT)

    assert result.error == "path escapes the source root" and result.sha256 is None


def test_byte_copy_has_same_sha256_and_pixel_hash(archive: Path) -> None:
    original = save(photo(), archive / "a.jpg", quality=85)
    copy = archive / "copy.jpg"
    copy.write_bytes(original.read_bytes())

    a, b = examine(original), examine(copy)

    assert a.sha256 == b.sha256
    assert a.image.pixel_hash == b.image.pixel_hash


@pytest.mark.parametrize(
    "options",
    [{}, {"progressive": True}, {"restart_marker_blocks": 4}],
    ids=["baseline", "progressive", "restart-markers"],
)
def test_metadata_only_edit_keeps_pixel_hash(archive: Path, options: dict) -> None:
    path = save(
        photo("chelsea"),
        archive / "cat.jpg",
        quality=88,
        exif=exif_bytes({piexif.ImageIFD.Artist: b"Original Artist"}),
        **options,
    )
    before = examine(path)
    edited = archive / "edited.jpg"
    edited.write_bytes(path.read_bytes())
    piexif.insert(exif_bytes({piexif.ImageIFD.Artist: b"New Artist"}), str(edited))

    after = examine(edited)

    assert before.sha256 != after.sha256
    assert before.image.pixel_hash == after.image.pixel_hash
    assert (before.image.metadata["artist"], after.image.metadata["artist"]) == (
        "Original Artist",
        "New Artist",
    )


def test_removing_all_exif_keeps_pixel_hash(archive: Path) -> None:
    path = save(photo(), archive / "a.jpg", exif=exif_bytes({piexif.ImageIFD.Make: b"Canon"}))
    stripped = archive / "stripped.jpg"
    stripped.write_bytes(path.read_bytes())
    piexif.remove(str(stripped))

    assert examine(path).image.pixel_hash == examine(stripped).image.pixel_hash


def test_comment_padding_and_trailer_do_not_change_pixel_hash(archive: Path) -> None:
    path = save(photo(), archive / "a.jpg", quality=85)
    raw = path.read_bytes()
    comment = b"\xff\xfe" + (2 + 5).to_bytes(2, "big") + b"hello"
    # A COM segment, fill bytes before the next marker, and a maker's trailer after EOI.
    edited = save_bytes(archive / "b.jpg", raw[:2] + comment + b"\xff\xff" + raw[2:] + b"TRAILER")

    assert examine(edited).image.pixel_hash == examine(path).image.pixel_hash


def test_changed_scan_data_changes_pixel_hash(archive: Path) -> None:
    path = save(photo(), archive / "a.jpg", quality=85)
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    while 0xFF in raw[middle - 1 : middle + 2]:  # keep the marker structure intact
        middle += 1
    raw[middle] ^= 0x01

    result = examine(save_bytes(archive / "b.jpg", bytes(raw)))

    assert result.error or result.image.pixel_hash != examine(path).image.pixel_hash


def test_reencode_changes_pixel_hash_but_not_phash_much(archive: Path) -> None:
    a = save(photo(), archive / "q90.jpg", quality=90)
    b = save(Image.open(a), archive / "q70.jpg", quality=70)

    first, second = examine(a).image, examine(b).image

    assert first.pixel_hash != second.pixel_hash
    assert distance(first.phash, second.phash) <= 4


def test_png_text_chunks_do_not_change_pixel_hash(archive: Path) -> None:
    im = photo("coffee")
    info_a, info_b = PngImagePlugin.PngInfo(), PngImagePlugin.PngInfo()
    info_a.add_text("Title", "first")
    info_b.add_text("Title", "second")
    info_b.add_text("Author", "someone else")
    a = save(im, archive / "a.png", pnginfo=info_a)
    b = save(im, archive / "b.png", pnginfo=info_b)

    first, second = examine(a), examine(b)

    assert first.sha256 != second.sha256
    assert first.image.pixel_hash == second.image.pixel_hash
    assert (first.image.format, first.image.mode) == ("PNG", "RGB")


def test_lossless_formats_with_same_pixels_share_pixel_hash(archive: Path) -> None:
    im = photo("chelsea")
    png = save(im, archive / "a.png")
    tiff = save(im, archive / "a.tif", compression="tiff_lzw")

    assert examine(png).image.pixel_hash == examine(tiff).image.pixel_hash
    assert examine(tiff).image.format == "TIFF"


def test_exif_camera_time_and_gps_are_read(archive: Path) -> None:
    block = exif_bytes(
        {
            piexif.ImageIFD.Make: b"Canon\x00\x00",
            piexif.ImageIFD.Model: b"  EOS 5D\x01 Mark IV ",
            piexif.ImageIFD.Copyright: b"(c) Archive " + b"x" * 2000,
            piexif.ImageIFD.DateTime: b"2021:01:01 00:00:00",
        },
        {
            piexif.ExifIFD.DateTimeOriginal: b"2019:12:31 23:59:58",
            piexif.ExifIFD.ISOSpeedRatings: 400,
            piexif.ExifIFD.ExposureTime: (1, 250),
            piexif.ExifIFD.FNumber: (28, 10),
            piexif.ExifIFD.FocalLength: (50, 1),
            piexif.ExifIFD.LensModel: b"EF50mm f/1.8",
        },
        {
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((22, 1), (17, 1), (3000, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"W",
            piexif.GPSIFD.GPSLongitude: ((114, 1), (10, 1), (0, 1)),
        },
    )
    path = save(photo(), archive / "a.jpg", exif=block)

    meta = examine(path).image.metadata

    assert meta["camera_make"] == "Canon"
    assert meta["camera_model"] == "EOS 5D Mark IV"
    assert meta["lens_model"] == "EF50mm f/1.8"
    assert meta["capture_time"] == "2019-12-31T23:59:58"
    assert (meta["iso"], meta["exposure_time"], meta["f_number"], meta["focal_length"]) == (
        400,
        "1/250",
        2.8,
        50.0,
    )
    assert meta["gps_latitude"] == pytest.approx(22 + 17 / 60 + 30 / 3600)
    assert meta["gps_longitude"] == pytest.approx(-(114 + 10 / 60))
    assert len(meta["copyright"]) == 1000
    assert meta["artist"] is None


def test_png_exif_is_read_through_pillow(archive: Path) -> None:
    path = save(photo(), archive / "a.png", exif=exif_bytes({piexif.ImageIFD.Artist: b"Bo"}))

    assert examine(path).image.metadata["artist"] == "Bo"


def test_bad_exif_leaves_the_image_recorded(archive: Path) -> None:
    block = exif_bytes(
        {piexif.ImageIFD.DateTime: b"0000:00:00 00:00:00", piexif.ImageIFD.Make: b"\x00\x00"},
        {piexif.ExifIFD.FNumber: (28, 0), piexif.ExifIFD.ExposureTime: (1, 0)},
    )
    path = save(photo(), archive / "a.jpg", exif=block)

    result = examine(path)

    assert result.error is None
    meta = result.image.metadata
    assert (meta["capture_time"], meta["camera_make"], meta["f_number"]) == (None, None, None)
    assert meta["exposure_time"] is None


def test_damaged_exif_is_noted_and_the_rest_kept(archive: Path) -> None:
    block = exif_bytes({piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Artist: b"A" * 50})
    # Cut the block short so the Artist string's offset points past its end.
    path = save(photo(), archive / "a.jpg", exif=block[:-45])

    result = examine(path)

    assert result.error is None
    assert result.image.metadata["camera_make"] == "Canon"
    assert result.image.metadata["metadata_error"]


def test_orientation_6_fingerprints_the_upright_image(archive: Path) -> None:
    upright = photo("coffee")  # 600 x 400, landscape as a viewer shows it
    # Orientation 6 means "rotate 90 degrees clockwise to display", so store it turned back.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    block = exif_bytes({piexif.ImageIFD.Orientation: 6})
    tagged = save(stored, archive / "tagged.jpg", quality=92, exif=block)
    rotated = save(upright, archive / "upright.jpg", quality=92)

    facts, reference = examine(tagged).image, examine(rotated).image

    assert (facts.orientation, facts.metadata["orientation"]) == (6, 6)
    assert (facts.width, facts.height) == (400, 600)
    assert distance(facts.phash, reference.phash) <= 2
    assert distance(facts.phash, str(imagehash.phash(upright))) <= 2
    assert distance(facts.phash, str(imagehash.phash(stored))) > 10


def test_orientation_is_part_of_jpeg_pixel_hash(archive: Path) -> None:
    im = photo()
    plain = save(im, archive / "plain.jpg", quality=90)
    turned = save(
        im, archive / "turned.jpg", quality=90, exif=exif_bytes({piexif.ImageIFD.Orientation: 3})
    )

    assert examine(plain).image.pixel_hash != examine(turned).image.pixel_hash


def test_large_file_path_gives_the_same_answers(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jpeg = save(photo(), archive / "a.jpg", quality=90, exif=exif_bytes({315: b"Ann"}))
    png = save(photo("coffee"), archive / "a.png")
    in_memory = [examine(jpeg), examine(png)]

    monkeypatch.setattr(reading, "IN_MEMORY_LIMIT", 1000)
    streamed = [examine(jpeg), examine(png)]

    assert streamed == in_memory


def test_empty_file_is_an_error(archive: Path) -> None:
    path = archive / "empty.jpg"
    path.touch()

    result = examine(path)

    assert result.error == "empty file (0 bytes)"
    assert (result.size, result.image) == (0, None)
    assert result.sha256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_is_an_error(archive: Path, progressive: bool) -> None:
    whole = save(photo(), archive / "whole.jpg", quality=90, progressive=progressive)
    half = archive / "half.jpg"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    result = examine(half)

    assert result.error == "truncated JPEG data"
    assert result.image is None and result.sha256 is not None


def test_jpeg_missing_only_its_end_marker_is_truncated(archive: Path) -> None:
    whole = save(photo(), archive / "whole.jpg")
    cut = archive / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:-2])

    assert examine(cut).error == "truncated JPEG data"


def test_text_file_named_jpg_is_not_an_image(archive: Path) -> None:
    path = archive / "notes.jpg"
    path.write_text("Hello world, this is not a photograph.\n")

    result = examine(path)

    assert result.error == (
        "not an image: the file's contents are not a recognised image format"
        " (starts with b'Hello wo')"
    )
    assert result.image is None


def test_decompression_bomb_is_refused_without_decoding(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mode "1" makes the same 400-megapixel header as "L" in a third of the time.
    path = save(Image.new("1", (20000, 20000)), archive / "bomb.png")
    assert path.stat().st_size < 100_000  # tiny on disk, 400 megapixels once decoded

    def refuse_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_decode)
    result = examine(path, max_pixels=LIMIT)

    assert result.error == "decompression bomb: 400,000,000 pixels exceeds the limit of 100,000,000"


def test_image_over_max_pixels_but_under_pillows_limit_is_refused(archive: Path) -> None:
    path = save(photo(size=(300, 200)), archive / "a.jpg")

    result = examine(path, max_pixels=50_000)

    assert result.error == "decompression bomb: 60,000 pixels exceeds the limit of 50,000"


def _flaky_state(
    real: Callable[[Path], tuple[int, int]], changes: int
) -> Callable[[Path], tuple[int, int]]:
    """Return a stand-in for file_state whose mtime moves on its first `changes` re-checks."""
    calls = {"n": 0}

    def state(path: Path) -> tuple[int, int]:
        calls["n"] += 1
        size, mtime_ns = real(path)
        moved = calls["n"] % 2 == 0 and calls["n"] // 2 <= changes
        return size, mtime_ns + (calls["n"] if moved else 0)

    return state


def test_file_changed_during_read_is_read_again(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(photo(), archive / "a.jpg")
    opened: list[Path] = []
    real_open = reading.open_binary
    monkeypatch.setattr(reading, "file_state", _flaky_state(reading.file_state, changes=1))
    monkeypatch.setattr(reading, "open_binary", lambda p: opened.append(p) or real_open(p))

    result = examine(path)

    assert result.error is None and result.image is not None
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(opened) >= 2


def test_file_that_keeps_changing_is_an_error(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(photo(), archive / "a.jpg")
    monkeypatch.setattr(reading, "file_state", _flaky_state(reading.file_state, changes=99))

    result = examine(path)

    assert result.error == "file changed while being read (3 attempts)"
    assert (result.sha256, result.image) == (None, None)


def test_unreadable_file_is_permission_denied(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(photo(), archive / "a.jpg")

    def deny(p: Path) -> None:
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(reading, "open_binary", deny)  # tests run as root: chmod cannot deny

    result = examine(path)

    assert (result.error, result.sha256, result.image) == ("permission denied", None, None)


def test_other_read_failures_say_unreadable(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(photo(), archive / "a.jpg")

    def fail(p: Path) -> None:
        raise OSError(5, "Input/output error", str(p))

    monkeypatch.setattr(reading, "open_binary", fail)

    assert examine(path).error == "unreadable: Input/output error"


def test_missing_file_is_an_error(archive: Path) -> None:
    result = examine_file(str(archive), "gone.jpg", thumbnail_dir=None, max_pixels=LIMIT)

    assert result.error == "file not found (removed or renamed during the scan)"


def test_blank_white_page_is_too_flat(archive: Path, tmp_path: Path) -> None:
    path = save(Image.new("RGB", (1200, 900), "white"), archive / "blank.jpg")

    facts = examine(path, tmp_path / "thumbs").image

    assert (facts.phash, facts.dhash) == (None, None)
    assert facts.fingerprint_note == "too flat to fingerprint"
    assert facts.thumbnail is not None  # a blank page still gets a thumbnail to look at


def test_tiny_icon_is_too_small(archive: Path) -> None:
    path = save(photo(size=(10, 10)), archive / "icon.png")

    facts = examine(path).image

    assert (facts.width, facts.height, facts.phash, facts.dhash) == (10, 10, None, None)
    assert facts.fingerprint_note == "too small to fingerprint"


def test_animated_gif_uses_its_first_frame(archive: Path) -> None:
    first, second = photo(size=(160, 120)), photo("chelsea", (160, 120))
    path = archive / "anim.gif"
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    still = save(first, archive / "still.gif")

    facts = examine(path).image

    assert (facts.format, facts.frame_count) == ("GIF", 2)
    assert facts.fingerprint_note == "first frame of 2"
    assert facts.pixel_hash == examine(still).image.pixel_hash


def test_transparent_and_sixteen_bit_images_are_fingerprinted(archive: Path) -> None:
    rgba = photo().convert("RGBA")
    rgba.putalpha(200)
    deep = Image.fromarray(np.asarray(photo().convert("L"), dtype=np.uint16) * 257)

    for path in (save(rgba, archive / "a.png"), save(deep, archive / "b.tif")):
        facts = examine(path).image
        assert facts.phash is not None and facts.fingerprint_note == "", path
    assert examine(archive / "b.tif").image.mode == "I;16"


def test_cmyk_jpeg_is_examined(archive: Path) -> None:
    path = save(photo().convert("CMYK"), archive / "print.jpg", quality=90)

    facts = examine(path).image

    assert (facts.mode, facts.format) == ("CMYK", "JPEG")
    assert distance(facts.phash, examine(save(photo(), archive / "rgb.jpg")).image.phash) <= 6


def test_examine_batch_keeps_order_and_reports_each_file(archive: Path) -> None:
    save(photo(), archive / "a.jpg")
    (archive / "b.jpg").write_text("nope")

    results = examine_batch(str(archive), ["b.jpg", "a.jpg"], thumbnail_dir=None, max_pixels=LIMIT)

    assert [r.path for r in results] == ["b.jpg", "a.jpg"]
    assert results[0].error and results[1].error is None


_SMALL_JPEG = io.BytesIO()
photo("chelsea", (160, 106)).save(
    _SMALL_JPEG, "JPEG", quality=80, exif=exif_bytes({piexif.ImageIFD.Artist: b"Ann"})
)
_JPEG_BYTES = _SMALL_JPEG.getvalue()


@st.composite
def mutated_jpegs(draw: st.DrawFn) -> bytes:
    """Draw a real JPEG with some bytes changed, and perhaps cut short."""
    raw = bytearray(_JPEG_BYTES)
    # Headers are where parsers break, so most changes land in the first kilobyte.
    where = st.one_of(st.integers(0, 1024), st.integers(0, len(raw) - 1))
    for position, value in draw(st.lists(st.tuples(where, st.integers(0, 255)), max_size=8)):
        raw[position] = value
    if draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]
    return bytes(raw)


@settings(
    max_examples=300,
    # A generous bound that only a hang or a full-size decode of a bomb would exceed.
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=mutated_jpegs())
def test_damaged_jpegs_never_raise(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "store" / "damaged.jpg"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)

    result = examine(path, tmp_path / "thumbs", max_pixels=20_000_000)

    assert isinstance(result, Examination)
    assert (result.error is None) == (result.image is not None)
    assert result.sha256 is not None
    if result.image is not None:
        json.dumps(result.image.metadata)


def test_truncated_files_stay_errors_after_weasyprint_is_imported(archive: Path) -> None:
    import weasyprint  # noqa: F401  (it sets ImageFile.LOAD_TRUNCATED_IMAGES = True)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    whole = save(photo(), archive / "whole.png")
    cut = archive / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    jpeg = save(photo(), archive / "whole.jpg", quality=90)
    cut_jpeg = archive / "cut.jpg"
    cut_jpeg.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])

    assert examine(cut).image is None and examine(cut).error
    assert examine(cut_jpeg).error == "truncated JPEG data"
