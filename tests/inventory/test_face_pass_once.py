"""The face pass looks once per photograph and carries the faces to its other renditions."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from inventory.models import Copy, Face, Match, Rendition
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.faces import faces_reclassify, faces_run
from inventory.services.grouping import assets_regroup
from tests.inventory.scan_helpers import scan_folder

SIDE = 1024


@pytest.fixture
def versions(archives: Path, role_users, settings) -> Path:
    """One portrait in five versions, and a photograph without people held once."""
    settings.PROVENA_FACES = True
    root = archives / "versions"
    root.mkdir()
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        master = im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    master.save(root / "master.jpg", quality=92)
    master.resize((160, 160), Image.Resampling.LANCZOS).save(root / "web_160.jpg", quality=85)
    master.resize((480, 480), Image.Resampling.LANCZOS).save(root / "web_480.jpg", quality=85)
    master.transpose(Image.Transpose.ROTATE_90).save(root / "on_its_side.jpg", quality=90)
    master.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(root / "mirrored.jpg", quality=90)
    with Image.open(PHOTOS_DIR / "coffee.jpg") as im:
        im.save(root / "coffee.jpg", quality=90)
    return root


def _rendition(path: str) -> Rendition:
    return Copy.objects.get(path=path).rendition


def test_faces_are_looked_for_once_per_photograph_and_carried_to_its_versions(versions) -> None:
    scan = scan_folder(versions)

    faces = scan.timings["faces"]
    master = _rendition("master.jpg")
    others = [_rendition(p) for p in ("web_160.jpg", "web_480.jpg", "on_its_side.jpg")]
    others.append(_rendition("mirrored.jpg"))
    assert len({r.asset_id for r in [master, *others]}) == 1
    # Two photographs: the portrait (looked at on its master) and the coffee cup.
    assert faces["photographs"] == 2
    assert faces["detected"] == 2 and faces["carried"] == 4
    assert faces["renditions"] == 6
    assert master.faces_carried_from_id is None
    assert master.faces.filter(carried=False, identifiable=True).count() == 1
    for rendition in others:
        assert rendition.faces_carried_from_id == master.pk
        assert rendition.identifiable_faces == 1
        assert rendition.faces.filter(carried=True, identifiable=True).count() == 1
    # The face lands where it is on each version (the master's face scaled to 160 px).
    face = master.faces.get(identifiable=True)
    small = others[0].faces.get(identifiable=True)
    assert small.left == pytest.approx(face.left * 160 / SIDE, abs=6)
    assert small.top == pytest.approx(face.top * 160 / SIDE, abs=6)
    # Nothing is left to look at.
    assert faces_run().renditions == 0


def test_carried_faces_follow_the_master_when_the_rule_changes(versions, settings) -> None:
    scan_folder(versions)
    master = _rendition("master.jpg")
    size = master.faces.get(identifiable=True).size

    settings.PROVENA_FACE_MIN_PX = size + 1
    faces_reclassify()

    assert not Rendition.objects.filter(identifiable_faces__gt=0).exists()
    settings.PROVENA_FACE_MIN_PX = 80
    faces_reclassify()
    # The 160 px copy's carried face is about 30 px: identifiable because the master's is.
    assert _rendition("web_160.jpg").identifiable_faces == 1


def test_a_version_split_from_the_photograph_is_looked_at_itself(versions) -> None:
    scan_folder(versions)
    small = _rendition("web_160.jpg")
    Match.objects.filter(rendition_a=small.pk).update(status=Match.Status.REJECTED)
    Match.objects.filter(rendition_b=small.pk).update(status=Match.Status.REJECTED)
    assets_regroup()

    result = faces_run()

    small.refresh_from_db()
    assert result.detected == 1 and result.carried == 0
    assert small.faces_carried_from_id is None
    assert not Face.objects.filter(rendition=small, carried=True).exists()
    # On its own, 160 px: her face is too small for the rule.
    assert small.identifiable_faces == 0
