"""An archive of real portraits for data access request tests, scanned with face encodings."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inventory.models import Copy, Rendition
from inventory.sample_archive import PHOTOS_DIR
from inventory.services.faces import faces_run
from tests.inventory.scan_helpers import scan_folder

# Where the astronaut's face is in astronaut.jpg, and so where it lands in the pair photo.
PAIR_OFFSET_Y = 44


@dataclass(frozen=True)
class FaceArchive:
    """The two sources and the paths that show the astronaut (Eileen Collins)."""

    people: Path
    press: Path
    astronaut_paths: frozenset[str]  # "source/path" of every file showing her
    other_paths: frozenset[str]

    def renditions_showing_astronaut(self) -> set[int]:
        return {
            c.rendition_id
            for c in Copy.objects.select_related("source")
            if f"{c.source.name}/{c.path}" in self.astronaut_paths
        }


def pair_photo() -> Image.Image:
    """Return the astronaut and Grace Hopper side by side: two identifiable people."""
    with (
        Image.open(PHOTOS_DIR / "astronaut.jpg") as astronaut,
        Image.open(PHOTOS_DIR / "grace_hopper.jpg") as hopper,
    ):
        pair = Image.new("RGB", (1024, 600), "white")
        pair.paste(astronaut.convert("RGB"), (0, PAIR_OFFSET_Y))
        pair.paste(hopper.convert("RGB"), (512, 0))
    return pair


def build_face_archive(root: Path) -> FaceArchive:
    """Write two sources: portraits (one also copied, resized, and in a pair) and non-faces."""
    people, press = root / "people", root / "press"
    for folder in (people / "portraits", people / "misc", press / "web"):
        folder.mkdir(parents=True)
    shutil.copy(PHOTOS_DIR / "astronaut.jpg", people / "portraits" / "astronaut.jpg")
    shutil.copy(PHOTOS_DIR / "grace_hopper.jpg", people / "portraits" / "grace_hopper.jpg")
    pair_photo().save(people / "portraits" / "pair.jpg", quality=92)
    for name in ("coffee", "brick"):
        shutil.copy(PHOTOS_DIR / f"{name}.jpg", people / "misc" / f"{name}.jpg")
    shutil.copy(PHOTOS_DIR / "astronaut.jpg", press / "web" / "astronaut_copy.jpg")
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        im.resize((384, 384), Image.Resampling.LANCZOS).save(
            press / "web" / "astronaut_small.jpg", quality=90
        )
    shutil.copy(PHOTOS_DIR / "chelsea.jpg", press / "web" / "chelsea.jpg")
    return FaceArchive(
        people=people,
        press=press,
        astronaut_paths=frozenset(
            {
                "people/portraits/astronaut.jpg",
                "people/portraits/pair.jpg",
                "press/web/astronaut_copy.jpg",
                "press/web/astronaut_small.jpg",
            }
        ),
        other_paths=frozenset(
            {
                "people/portraits/grace_hopper.jpg",
                "people/misc/coffee.jpg",
                "people/misc/brick.jpg",
                "press/web/chelsea.jpg",
            }
        ),
    )


def enable_encodings(settings) -> str:
    """Turn face encodings on with a fresh key; return the key."""
    key = Fernet.generate_key().decode()
    settings.PROVENA_FACE_ENCODINGS = True
    settings.PROVENA_FACE_KEY = key
    return key


def scan_face_archive(archive: FaceArchive) -> None:
    """Scan both sources (people for LCSD, press for NEWS) and run the face pass."""
    scan_folder(archive.people, name="people", department="LCSD")
    scan_folder(archive.press, name="press", department="NEWS")
    faces_run()
    assert Rendition.objects.filter(faces_checked_at__isnull=True).count() == 0


def jpeg_upload(image: Image.Image, name: str = "reference.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def astronaut_reference() -> Image.Image:
    """Return a tighter, smaller shot of the astronaut's head: not a file in the archive."""
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as im:
        return im.crop((100, 0, 400, 300)).resize((240, 240), Image.Resampling.LANCZOS)
