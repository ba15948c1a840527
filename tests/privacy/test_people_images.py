"""Every URL that serves an image, as every role: no unblurred face of a photograph of a person.

Identifiability belongs to the photograph: the astronaut's 160 px web copy (her face there is
under PROVENA_FACE_MIN_PX) and a copy turned on its side (the detector finds no face in it)
are the same person as the master, pixelated for everyone but the legal role, whose every
look is logged.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageFilter

from governance.privacy.models import PersonalDataView
from inventory.models import Copy, Face, Rendition
from inventory.sample_archive import PHOTOS_DIR
from inventory.selectors.people import renditions_showing_people
from inventory.services.scan_paths import thumbnail_dir
from reports.models import Report
from tests.conftest import SAMPLE_DEPARTMENTS
from tests.inventory.scan_helpers import scan_folder
from tests.reports.helpers import build

# The astronaut's face in astronaut.jpg (512 x 512), set by hand (bench/faces.py).
FACE = (177, 80, 86, 86)
ROTATED = "turned/astronaut_on_its_side.jpg"
ROLES = ("compliance", "legal", "manager", "auditor", "administrator", "other_department")


@pytest.fixture
def archive(sample_archive, archives: Path, role_users, settings) -> dict:
    """The sample archive and a copy of the astronaut turned a quarter, face pass on."""
    settings.PROVENA_FACES = True
    for name, root in sample_archive.items():
        scan_folder(root, department=SAMPLE_DEPARTMENTS[name])
    rotations = archives / "rotations"
    (rotations / "turned").mkdir(parents=True)
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        im.transpose(Image.Transpose.ROTATE_90).save(rotations / ROTATED)
    scan_folder(rotations, department="LCSD")
    return {"users": role_users}


def _astronaut() -> list[Rendition]:
    master = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    return list(Rendition.objects.filter(asset_id=master.rendition.asset_id).order_by("pk"))


def _face_on(rendition: Rendition, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return where the face truly is on an image of the rendition of this size."""
    left, top, width, height = FACE
    if rendition.copies.filter(path=ROTATED).exists():  # ROTATE_90: counter-clockwise
        left, top, width, height = top, 512 - left - width, height, width
    k = size[0] / 512
    return round(left * k), round(top * k), round(width * k), round(height * k)


def _detail(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Return the fine detail (mean difference from a blurred self) inside the box."""
    left, top, width, height = box
    region = image.convert("L").crop((left, top, left + width, top + height))
    smooth = region.filter(ImageFilter.GaussianBlur(1.5))
    return float(np.abs(np.asarray(region, float) - np.asarray(smooth, float)).mean())


def _raw_thumbnail(rendition: Rendition) -> bytes:
    return (thumbnail_dir() / rendition.thumbnail).read_bytes()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_rendition_of_a_photograph_of_a_person_is_a_personal_data_holding(archive) -> None:
    renditions = _astronaut()
    small = next(r for r in renditions if r.copies.filter(path__endswith="_160.jpg").exists())
    turned = next(r for r in renditions if r.copies.filter(path=ROTATED).exists())

    # The detector finds no identifiable face on either: her face was carried from the
    # master through their registrations, and counts as hers.
    for rendition in (small, turned):
        assert not rendition.faces.filter(carried=False, identifiable=True).exists()
        assert rendition.faces.filter(carried=True, identifiable=True).count() == 1
        assert rendition.faces_carried_from_id is not None
    assert renditions_showing_people(among=[r.pk for r in renditions]) == {r.pk for r in renditions}
    # Even with no face recorded on them at all, the photograph shows her.
    Face.objects.filter(rendition__in=[small, turned]).delete()
    Rendition.objects.filter(pk__in=[small.pk, turned.pk]).update(identifiable_faces=0)
    assert renditions_showing_people(among=[small.pk, turned.pk]) == {small.pk, turned.pk}
    coffee = Copy.objects.get(source__name="film_archive", path="stills/coffee.jpg").rendition
    assert renditions_showing_people(among=[coffee.pk]) == set()


@pytest.mark.parametrize("own_faces", ["carried", "none recorded"])
def test_no_thumbnail_shows_her_face_unblurred_to_anyone_but_the_legal_role(
    archive, own_faces
) -> None:
    renditions = _astronaut()
    if own_faces == "none recorded":
        # As if the small and the turned copy had been checked alone: no face of their own.
        alone = [r.pk for r in renditions if r.faces_carried_from_id]
        assert len(alone) >= 2
        Face.objects.filter(rendition__in=alone).delete()
        Rendition.objects.filter(pk__in=alone).update(identifiable_faces=0)
    for role in ROLES:
        user = archive["users"][role]
        client = _client(user)
        legal = role == "legal"
        served = 0
        for rendition in renditions:
            response = client.get(reverse("thumbnail", args=[rendition.pk]))
            if response.status_code == 404:  # held only in another department's sources
                assert role in ("compliance", "manager", "other_department")
                continue
            assert response.status_code == 200
            assert response["Cache-Control"] == "private, no-store"
            body, raw = _body(response), _raw_thumbnail(rendition)
            served += 1
            if legal:
                assert body == raw
                continue
            image, original = Image.open(io.BytesIO(body)), Image.open(io.BytesIO(raw))
            face = _face_on(rendition, original.size)
            # The face is pixelated: its fine detail is gone.
            assert _detail(image, face) < 0.3 * _detail(original, face), (role, rendition.pk)
        # Organisation-wide roles see every rendition, the small and the turned copy included.
        if role in ("legal", "auditor", "administrator"):
            assert served == len(renditions), role
        looks = PersonalDataView.objects.filter(user=user, kind=PersonalDataView.Kind.THUMBNAIL)
        assert looks.count() == (served if legal else 0), role


def test_a_thumbnail_without_people_is_served_as_it_is_and_not_logged(archive) -> None:
    coffee = Copy.objects.get(source__name="film_archive", path="stills/coffee.jpg").rendition
    for role in ("compliance", "legal"):
        response = _client(archive["users"][role]).get(reverse("thumbnail", args=[coffee.pk]))
        assert _body(response) == _raw_thumbnail(coffee)
    assert not PersonalDataView.objects.exists()


def test_the_large_view_of_any_of_her_renditions_is_for_the_legal_role(archive) -> None:
    renditions = _astronaut()
    for role in ROLES:
        user = archive["users"][role]
        client = _client(user)
        for rendition in renditions:
            response = client.get(reverse("privacy-image", args=[rendition.pk]))
            assert response.status_code == (200 if role == "legal" else 403), role
        looks = PersonalDataView.objects.filter(user=user, kind=PersonalDataView.Kind.IMAGE)
        assert looks.count() == (len(renditions) if role == "legal" else 0), role


def test_report_thumbnails_show_her_face_pixelated_to_every_reader(archive, tmp_path) -> None:
    build(tmp_path, "audit")
    report = Report.objects.get()
    raws = {r.pk: Image.open(io.BytesIO(_raw_thumbnail(r))).convert("RGB") for r in _astronaut()}
    for role in ROLES:
        response = _client(archive["users"][role]).get(
            reverse("report-download", args=[report.number])
        )
        if response.status_code != 200:
            continue
        pdf = tmp_path / f"{role}.pdf"
        pdf.write_bytes(_body(response))
        out = tmp_path / role
        out.mkdir()
        subprocess.run(["pdfimages", "-png", str(pdf), str(out / "image")], check=True)
        shown = 0
        for path in out.glob("image-*.png"):
            with Image.open(path) as im:
                image = im.convert("RGB")
            for rendition_id, raw in raws.items():
                if image.size != raw.size:
                    continue
                rendition = Rendition.objects.get(pk=rendition_id)
                face = _face_on(rendition, raw.size)
                rest = (0, raw.height - raw.height // 4, raw.width, raw.height // 4)
                if _difference(image, raw, rest) > 6:
                    continue  # another picture of this size
                shown += 1
                assert _detail(image, face) < 0.3 * _detail(raw, face), role
        assert shown >= 1, f"the report for {role} should show the astronaut's group"


def _difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    left, top, width, height = box
    crop = (left, top, left + width, top + height)
    return float(np.abs(np.asarray(a.crop(crop), float) - np.asarray(b.crop(crop), float)).mean())
