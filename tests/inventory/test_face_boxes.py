"""Carrying a face box through a verified registration, on a real portrait and its derivatives."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from inventory.imaging.thumbnails import thumbnail_of
from inventory.pairs.boxes import Placement, map_box
from inventory.pairs.verification import RenditionInfo, verify_pair
from inventory.sample_archive import PHOTOS_DIR

# The astronaut's face in astronaut.jpg (512 x 512), set by hand (bench/faces.py), at 2x.
FACE = (354, 160, 172, 172)
SIDE = 1024


def _master() -> Image.Image:
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        return im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def _info(image: Image.Image) -> RenditionInfo:
    return RenditionInfo(
        width=image.width, height=image.height, format="JPEG", mode="RGB", file_size=1
    )


def _rotate_90(box):  # ROTATE_90 (counter-clockwise) of a SIDE x SIDE picture
    left, top, width, height = box
    return top, SIDE - left - width, height, width


def _mirror(box):
    left, top, width, height = box
    return SIDE - left - width, top, width, height


# name -> (how the derivative is made, where the face truly lands on it)
DERIVATIVES: dict[str, tuple[Callable[[Image.Image], Image.Image], Callable]] = {
    "resized to 160 px": (
        lambda im: im.resize((160, 160), Image.Resampling.LANCZOS),
        lambda b: tuple(round(v * 160 / SIDE) for v in b),
    ),
    "cropped around the face": (
        lambda im: im.crop((200, 40, 800, 640)),
        lambda b: (b[0] - 200, b[1] - 40, b[2], b[3]),
    ),
    "rotated a quarter turn": (lambda im: im.transpose(Image.Transpose.ROTATE_90), _rotate_90),
    "mirrored": (lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), _mirror),
}


def _overlap(a, b) -> float:
    """Return the share of box b covered by box a."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return max(0, x1 - x0) * max(0, y1 - y0) / (b[2] * b[3])


@pytest.mark.parametrize("name", list(DERIVATIVES))
@pytest.mark.parametrize("master_first", [True, False])
def test_a_face_on_the_master_lands_on_the_face_of_each_derivative(
    name: str, master_first: bool
) -> None:
    make, truth = DERIVATIVES[name]
    master = _master()
    derivative = make(master)
    # Verified as the scanner does: on thumbnails, in either order.
    first, second = (master, derivative) if master_first else (derivative, master)
    verdict = verify_pair(
        thumbnail_of(first, 256),
        thumbnail_of(second, 256),
        a_info=_info(first),
        b_info=_info(second),
    )
    assert verdict.tier == "probable", verdict.evidence
    placement = Placement.from_evidence(verdict.evidence)
    assert placement is not None

    landed = map_box(
        FACE,
        placement=placement,
        forward=master_first,
        from_size=master.size,
        to_size=derivative.size,
    )

    expected = truth(FACE)
    assert landed is not None
    # The whole face is covered, and the box is not much larger than the face.
    assert _overlap(landed, expected) >= 0.97
    assert landed[2] * landed[3] <= 1.8 * expected[2] * expected[3]


def test_a_face_outside_a_crop_lands_nowhere() -> None:
    master = _master()
    crop = master.crop((0, 560, SIDE, SIDE))  # the lower part: suit and flag, no face
    verdict = verify_pair(
        thumbnail_of(master, 256), thumbnail_of(crop, 256), a_info=_info(master), b_info=_info(crop)
    )
    placement = Placement.from_evidence(verdict.evidence)
    assert verdict.tier == "probable" and placement is not None

    assert (
        map_box(FACE, placement=placement, forward=True, from_size=master.size, to_size=crop.size)
        is None
    )


def test_evidence_without_a_usable_frame_gives_no_placement() -> None:
    assert Placement.from_evidence({}) is None
    assert Placement.from_evidence({"transform": "id", "frame_of_b_in_a": [0, 0, 0, 1]}) is None
    assert Placement.from_evidence({"transform": "warp", "frame_of_b_in_a": [0, 0, 1, 1]}) is None
