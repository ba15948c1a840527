"""The face pass on real photographs: where faces are, in upright original pixels."""

from __future__ import annotations

from pathlib import Path

import piexif
import pytest
from PIL import Image

from inventory.imaging.faces import FacePolicy, detect_faces, examine_faces, person_names
from inventory.imaging.redaction import blur_faces
from inventory.sample_archive import PHOTOS_DIR

POLICY = FacePolicy()
NO_FACES = ["brick", "chelsea", "coffee", "coins", "grass", "gravel", "rocket", "retina"]


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_a_portrait_shows_one_identifiable_person(name: str) -> None:
    result = examine_faces(PHOTOS_DIR / f"{name}.jpg", POLICY)

    people = [f for f in result.faces if POLICY.is_identifiable(size=f.size, score=f.score)]
    assert len(people) == 1
    assert people[0].size >= 80
    assert result.problem == ""


@pytest.mark.parametrize("name", NO_FACES)
def test_photographs_without_people_show_no_identifiable_face(name: str) -> None:
    result = examine_faces(PHOTOS_DIR / f"{name}.jpg", POLICY)

    assert not [f for f in result.faces if POLICY.is_identifiable(size=f.size, score=f.score)]


def test_boxes_are_in_original_pixels_whatever_the_decode_size(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    with Image.open(PHOTOS_DIR / "grace_hopper.jpg") as im:
        im.resize((im.width * 4, im.height * 4), Image.Resampling.LANCZOS).save(big, quality=92)
    small = examine_faces(PHOTOS_DIR / "grace_hopper.jpg", POLICY).faces[0]

    # 2048x2400 is decoded at 1600 px or less, yet the box comes back at full size.
    found = examine_faces(big, FacePolicy(decode_side=1000)).faces

    assert len(found) == 1
    # The detector's box shifts a little with scale: allow 15% of the face's width.
    assert found[0].left == pytest.approx(small.left * 4, abs=0.15 * small.width * 4)
    assert found[0].width == pytest.approx(small.width * 4, rel=0.25)


def test_exif_orientation_is_applied_before_looking(tmp_path: Path) -> None:
    # Store the portrait lying on its side with an EXIF tag saying "rotate 90° clockwise".
    rotated = tmp_path / "sideways.jpg"
    with Image.open(PHOTOS_DIR / "grace_hopper.jpg") as im:
        exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})
        im.transpose(Image.Transpose.ROTATE_90).save(rotated, quality=95, exif=exif)
    upright = examine_faces(PHOTOS_DIR / "grace_hopper.jpg", POLICY).faces[0]

    found = examine_faces(rotated, POLICY).faces

    assert len(found) == 1
    assert found[0].left == pytest.approx(upright.left, abs=12)
    assert found[0].top == pytest.approx(upright.top, abs=12)


def test_a_broken_file_says_why_and_finds_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((PHOTOS_DIR / "astronaut.jpg").read_bytes()[:600])

    result = examine_faces(broken, POLICY)

    assert result.faces == []
    assert "could not read" in result.problem


def test_people_named_in_xmp_are_recorded(tmp_path: Path) -> None:
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        "<Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Eileen Collins</rdf:li></rdf:Bag>"
        '</Iptc4xmpExt:PersonInImage></rdf:Description><rdf:Description mwg-rs:Name="Jane Roe"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    target = tmp_path / "named.jpg"
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        im.save(target, quality=90, xmp=xmp.encode())

    assert examine_faces(target, POLICY).names == ["Eileen Collins", "Jane Roe"]
    assert person_names("") == []


def test_blurring_leaves_no_face_to_find() -> None:
    with Image.open(PHOTOS_DIR / "grace_hopper.jpg") as im:
        im.load()
        face = examine_faces(PHOTOS_DIR / "grace_hopper.jpg", POLICY).faces[0]
        blurred = blur_faces(im, [(face.left, face.top, face.width, face.height)])
        outside = (5, 5, 60, 60)
        assert blurred.crop(outside).tobytes() == im.convert("RGB").crop(outside).tobytes()
    assert detect_faces(blurred, POLICY) == []


def test_the_policy_refuses_an_unknown_model() -> None:
    with pytest.raises(ValueError, match="hog, cnn"):
        FacePolicy(model="magic")
