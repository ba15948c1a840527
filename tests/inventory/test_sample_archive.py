from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inventory.sample_archive import (
    ARCHIVE_LAYOUT,
    BAD_FILES,
    BAD_FILES_DIR,
    BOMB_SIDE,
    FACE_PHOTO_NAMES,
    NON_UTF8_NAME,
    PHOTO_NAMES,
    PHOTOS_DIR,
    build_sample_archive,
    camera_size,
    corpus_file_name,
    make_camera_corpus,
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_sample_archive(tmp_path_factory.mktemp("archive"))


def _file(roots: dict[str, Path], key: str) -> Path:
    source, path = key.split("/", 1)
    return roots[source] / path


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _scan_data(data: bytes) -> bytes:
    """Return the bytes after the last SOS marker of a JPEG."""
    sos = data.rfind(b"\xff\xda")
    assert sos > 0, "no SOS marker"
    return data[sos:]


def _tree_digests(root: Path) -> dict[str, tuple[str, float]]:
    """Return relative path -> (sha256 or link target, mtime) for everything under root."""
    found = {}
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            info = path.lstat()
            if path.is_symlink():
                digest = "-> " + str(path.readlink())
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(root))] = (digest, info.st_mtime)
    return found


def test_sample_photos_are_small_jpegs_with_licences() -> None:
    files = sorted(PHOTOS_DIR.glob("*.jpg"))
    assert [p.stem for p in files] == sorted([*PHOTO_NAMES, *FACE_PHOTO_NAMES])
    for path in files:
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert max(image.size) <= 640
    assert sum(p.stat().st_size for p in PHOTOS_DIR.iterdir()) < 1_500_000
    licences = (PHOTOS_DIR / "LICENSES.md").read_text(encoding="utf-8")
    for name in (*PHOTO_NAMES, *FACE_PHOTO_NAMES):
        assert f"`{name}.jpg`" in licences


def test_archive_has_every_layout_file_and_only_those(archive: dict[str, Path]) -> None:
    assert set(archive) == {"film_archive", "newsroom", "web_team"}
    expected = {entry.key for entry in ARCHIVE_LAYOUT}
    expected |= {f"newsroom/{BAD_FILES_DIR}/{name}" for name in BAD_FILES}
    found = set()
    for source, root in archive.items():
        for directory, _subdirs, files in os.walk(root):
            for name in files:
                relative = (Path(directory) / name).relative_to(root).as_posix()
                found.add(f"{source}/{relative}")
    # The non-UTF-8 name is optional: some filesystems refuse it.
    optional = {f"newsroom/{BAD_FILES_DIR}/{NON_UTF8_NAME}"}
    assert found - optional == expected - optional
    masters = [e for e in ARCHIVE_LAYOUT if e.relation == "master"]
    assert sorted(e.photo for e in masters) == sorted(PHOTO_NAMES)


def test_byte_copies_are_byte_identical(archive: dict[str, Path]) -> None:
    copies = [e for e in ARCHIVE_LAYOUT if e.made_by == "copy"]
    assert len([e for e in copies if e.made_from]) == 8
    for entry in copies:
        origin = (
            PHOTOS_DIR / f"{entry.photo}.jpg"
            if entry.made_from is None
            else _file(archive, entry.made_from)
        )
        assert _file(archive, entry.key).read_bytes() == origin.read_bytes(), entry.key


def test_metadata_edits_keep_scan_data_and_pixels(archive: dict[str, Path]) -> None:
    edits = [e for e in ARCHIVE_LAYOUT if e.made_by == "exif_edit"]
    assert len(edits) == 2
    for entry in edits:
        edited = _file(archive, entry.key)
        master = _file(archive, entry.made_from)
        assert edited.read_bytes() != master.read_bytes()
        assert _scan_data(edited.read_bytes()) == _scan_data(master.read_bytes())
        assert np.array_equal(_pixels(edited), _pixels(master))
        with Image.open(edited) as image:
            assert image.getexif()[315] == "Newsroom picture desk"  # Artist


def test_png_conversion_decodes_to_the_masters_pixels(archive: dict[str, Path]) -> None:
    png = archive["newsroom"] / "converted/chelsea.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert np.array_equal(_pixels(png), _pixels(archive["film_archive"] / "stills/chelsea.jpg"))


def test_derived_files_have_the_described_geometry(archive: dict[str, Path]) -> None:
    def size(key: str) -> tuple[int, int]:
        with Image.open(_file(archive, key)) as image:
            return image.size

    for entry in ARCHIVE_LAYOUT:
        width, height = size(entry.made_from) if entry.made_from else (0, 0)
        if entry.made_by == "resize_half":
            assert size(entry.key) == (round(width / 2), round(height / 2))
        elif entry.made_by == "thumbnail_160":
            assert max(size(entry.key)) == 160
        elif entry.made_by == "crop_20":
            # 20% off each side, rounded per edge as the crop box is.
            assert size(entry.key) == (
                round(width * 0.8) - round(width * 0.2),
                round(height * 0.8) - round(height * 0.2),
            )
        elif entry.made_by == "grayscale":
            with Image.open(_file(archive, entry.key)) as image:
                assert image.mode == "L"
        elif entry.made_by == "jpeg_q60":
            assert size(entry.key) == (width, height)
            assert not np.array_equal(
                _pixels(_file(archive, entry.key)), _pixels(_file(archive, entry.made_from))
            )


def test_rebuild_gives_identical_bytes_and_mtimes(tmp_path: Path) -> None:
    first = build_sample_archive(tmp_path)
    before = {name: _tree_digests(root) for name, root in first.items()}
    (first["newsroom"] / "stray.jpg").write_bytes(b"left over from an earlier run")
    second = build_sample_archive(tmp_path)
    after = {name: _tree_digests(root) for name, root in second.items()}
    assert after == before
    assert all(before.values())


def test_bad_files_are_as_described(archive: dict[str, Path]) -> None:
    incoming = archive["newsroom"] / BAD_FILES_DIR
    assert (incoming / "empty.jpg").stat().st_size == 0

    retina = (PHOTOS_DIR / "retina.jpg").read_bytes()
    truncated = (incoming / "truncated.jpg").read_bytes()
    assert retina.startswith(truncated)
    assert len(truncated) == len(retina) * 4 // 10

    assert not (incoming / "notes.jpg").read_bytes().startswith(b"\xff\xd8")

    bomb = incoming / "bomb.png"
    assert bomb.stat().st_size < 100_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)
    header = bomb.read_bytes()[16:24]
    assert header == BOMB_SIDE.to_bytes(4, "big") * 2

    assert str((incoming / "missing_link.jpg").readlink()) == "does-not-exist.jpg"
    assert not (incoming / "missing_link.jpg").exists()
    assert str((incoming / "loop_a.jpg").readlink()) == "loop_b.jpg"
    assert str((incoming / "loop_b.jpg").readlink()) == "loop_a.jpg"

    odd = incoming / NON_UTF8_NAME
    if odd.exists():
        assert odd.read_bytes() == (archive["film_archive"] / "stills/coins.jpg").read_bytes()


def test_archive_without_bad_files_has_no_incoming_folder(tmp_path: Path) -> None:
    roots = build_sample_archive(tmp_path, with_bad_files=False)
    assert not (roots["newsroom"] / BAD_FILES_DIR).exists()


def test_camera_size_of_12_megapixels_is_4000_by_3000() -> None:
    assert camera_size(12.0) == (4000, 3000)
    width, height = camera_size(24.0)
    assert abs(width * height - 24_000_000) < 10_000
    assert abs(width / height - 4 / 3) < 0.01


def test_camera_corpus_files_are_distinct_jpegs_with_exif(tmp_path: Path) -> None:
    paths = make_camera_corpus(tmp_path, 2, megapixels=0.3, seed=5)
    assert [p.name for p in paths] == [corpus_file_name(i, seed=5) for i in range(2)]
    pixels = []
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == camera_size(0.3)
            exif = image.getexif()
            assert exif[271] and exif[272]  # Make, Model
            assert exif.get_ifd(0x8769)[36867]  # DateTimeOriginal
            pixels.append(np.asarray(image))
    assert not np.array_equal(pixels[0], pixels[1])


def test_camera_corpus_is_deterministic_and_reuses_files(tmp_path: Path) -> None:
    first = make_camera_corpus(tmp_path / "a", 2, megapixels=0.1, seed=1)
    again = make_camera_corpus(tmp_path / "b", 2, megapixels=0.1, seed=1)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]

    first[0].write_bytes(b"kept")
    grown = make_camera_corpus(tmp_path / "a", 3, megapixels=0.1, seed=1)
    assert grown[0].read_bytes() == b"kept"
    assert grown[1].read_bytes() == again[1].read_bytes()
    assert len(grown) == 3 and grown[2].exists()
