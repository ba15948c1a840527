"""Tests for inventory.imaging.fingerprints: global hashes, probes and keys of one rendition."""

from __future__ import annotations

import io

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data as skdata

from inventory.imaging.fingerprints import (
    DIHEDRAL,
    best_link,
    compute_fingerprints,
    hamming,
    to_hex,
)

INVERSE = {"r90": "r270", "r270": "r90"}


def photo(name: str) -> Image.Image:
    """Return a real photograph from scikit-image."""
    return Image.fromarray(getattr(skdata, name)())


def jpeg(im: Image.Image, quality: int = 90) -> Image.Image:
    """Return the image after a JPEG round trip, as a file on disk would give it."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        out.load()
        return out.copy()


@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera", "chelsea"])
def test_global_hashes_are_close_to_imagehash_of_the_whole_picture(name):
    im = photo(name)
    fp = compute_fingerprints(im)
    # Taken from the box-reduced copy (long side about 128) to save time, so they may
    # differ from imagehash on the whole picture by a tie or two at the median.
    assert hamming(fp.phash, int(str(imagehash.phash(im)), 16)) <= 2
    assert hamming(fp.dhash, int(str(imagehash.dhash(im)), 16)) <= 4


@pytest.mark.parametrize("name", ["astronaut", "chelsea"])
def test_global_hashes_equal_imagehash_on_a_picture_needing_no_reduction(name):
    im = photo(name)
    im = im.resize((im.width * 240 // max(im.size), im.height * 240 // max(im.size)))
    fp = compute_fingerprints(im)
    assert fp.phash == int(str(imagehash.phash(im)), 16)
    assert fp.dhash == int(str(imagehash.dhash(im)), 16)
    assert to_hex(fp.phash) == str(imagehash.phash(im))


@pytest.mark.parametrize("code", sorted(DIHEDRAL))
def test_transformed_copy_has_a_probe_within_two_bits_of_the_original(code):
    original = photo("coffee")
    copy = original.transpose(DIHEDRAL[code])
    original_fp, copy_fp = compute_fingerprints(original), compute_fingerprints(copy)
    # The copy, turned back, looks like the original...
    assert hamming(dict(copy_fp.probes)[INVERSE.get(code, code)], original_fp.phash) <= 2
    # ...and the original, turned, looks like the copy (as imagehash sees it).
    assert hamming(dict(original_fp.probes)[code], int(str(imagehash.phash(copy)), 16)) <= 2
    assert hamming(copy_fp.phash, original_fp.phash) > 10  # the probe is what finds it


def test_rotated_copy_is_linked_through_a_rotation_probe():
    original = photo("astronaut")
    copy = jpeg(original.transpose(Image.Transpose.ROTATE_270))
    distance, hint = best_link(compute_fingerprints(copy), compute_fingerprints(original))
    assert distance <= 4
    # The copy turned by 90 degrees matches the original, or the original turned by 270
    # matches the copy: the index may see either.
    assert hint in ("r90>global", "global>r270")


@pytest.mark.parametrize(("fraction", "key"), [(0.05, "w90c"), (0.20, "w60c"), (0.15, "w70c")])
def test_centre_crop_global_is_close_to_the_originals_window_key(fraction, key):
    original = photo("rocket")
    w, h = original.size
    dx, dy = round(w * fraction), round(h * fraction)
    crop = jpeg(original.crop((dx, dy, w - dx, h - dy)))
    original_fp, crop_fp = compute_fingerprints(original), compute_fingerprints(crop)
    assert hamming(crop_fp.phash, dict(original_fp.keys)[key]) <= 6
    assert hamming(crop_fp.phash, original_fp.phash) > 8  # without the key it would be missed


def test_keys_are_few_and_distinct():
    for name in ("astronaut", "coffee"):
        fp = compute_fingerprints(photo(name))
        codes = [code for code, _ in fp.keys]
        assert len(codes) == len(set(codes))
        assert len(codes) <= 12
        assert {"w90c", "w80c", "w70c", "w60c"} <= set(codes)
    assert "sq85" in dict(compute_fingerprints(photo("coffee")).keys)  # 3:2, not square
    assert "sq85" not in dict(compute_fingerprints(photo("astronaut")).keys)


def test_white_border_is_trimmed_and_its_hash_matches_the_original():
    original = photo("chelsea")
    w, h = original.size
    bordered = jpeg(ImageOps.expand(original, border=(w // 10, h // 10), fill="white"))
    fp = compute_fingerprints(bordered)
    assert fp.trim_box is not None
    left, top, right, bottom = fp.trim_box
    assert left == pytest.approx(1 / 12, abs=0.02)
    assert right == pytest.approx(11 / 12, abs=0.02)
    assert top == pytest.approx(1 / 12, abs=0.02)
    assert bottom == pytest.approx(11 / 12, abs=0.02)
    original_phash = compute_fingerprints(original).phash
    assert hamming(dict(fp.probes)["trim"], original_phash) <= 4
    assert hamming(fp.phash, original_phash) > 10
    assert dict(fp.keys)["trim"] == dict(fp.probes)["trim"]


def test_black_letterbox_is_trimmed_top_and_bottom_only():
    original = photo("coffee")
    boxed = jpeg(ImageOps.expand(original, border=(0, 60), fill="black"))
    fp = compute_fingerprints(boxed)
    assert fp.trim_box is not None
    left, top, right, bottom = fp.trim_box
    assert (left, right) == (0.0, 1.0)
    assert top == pytest.approx(60 / 520, abs=0.02)
    assert hamming(dict(fp.probes)["trim"], compute_fingerprints(original).phash) <= 4


@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket", "camera"])
def test_photographs_without_a_border_have_no_trim_hash(name):
    fp = compute_fingerprints(photo(name))
    assert fp.trim_box is None
    assert "trim" not in dict(fp.probes)


def test_tiny_and_flat_images_have_no_fingerprints():
    assert compute_fingerprints(photo("astronaut").resize((10, 10))) is None  # an icon
    assert compute_fingerprints(Image.new("RGB", (600, 800), "white")) is None  # blank page
    rng = np.random.default_rng(0)
    paper = np.clip(245 + rng.normal(0, 1.5, (800, 600)), 0, 255).astype(np.uint8)
    assert compute_fingerprints(Image.fromarray(paper)) is None  # scanned blank page
    assert compute_fingerprints(photo("astronaut").resize((64, 40))) is not None
