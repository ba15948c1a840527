"""Fixtures for remediation tests: a small archive of real photographs, scanned."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from governance.remediation.models import RemediationTask, SourcePolicy
from inventory.models import Asset, Copy, Source
from inventory.sample_archive import PHOTOS_DIR
from tests.inventory.scan_helpers import scan_folder


@dataclass
class Archive:
    """Two scanned sources holding real photographs and copies of them."""

    library: Path  # LCSD, internal: the masters, a backup copy, a crop
    website: Path  # NEWS, external-facing: a copy published on the web

    def copy(self, source: str, path: str) -> Copy:
        return Copy.objects.select_related("source", "rendition").get(
            source__name=source, path=path
        )

    def asset(self, photo: str = "astronaut") -> Asset:
        return self.copy("library", f"stills/{photo}.jpg").rendition.asset


def _crop(origin: Path, target: Path) -> None:
    with Image.open(origin) as image:
        box = (image.width // 5, image.height // 5, image.width * 4 // 5, image.height * 4 // 5)
        image.crop(box).save(target, quality=90)


def build_tree(archives: Path) -> tuple[Path, Path]:
    """Copy real photographs into two source folders and return their roots."""
    library = archives / "library"
    website = archives / "website"
    for folder in (library / "stills", library / "backup", library / "crops", website / "img"):
        folder.mkdir(parents=True)
    for photo in ("astronaut", "coffee"):
        shutil.copyfile(PHOTOS_DIR / f"{photo}.jpg", library / "stills" / f"{photo}.jpg")
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", library / "backup" / "astronaut.jpg")
    _crop(PHOTOS_DIR / "astronaut.jpg", library / "crops" / "astronaut_detail.jpg")
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", website / "img" / "hero.jpg")
    return library, website


@pytest.fixture
def archive(archives: Path, role_users) -> Archive:
    """Scan the library (LCSD, internal, authoritative) and the website (NEWS, external)."""
    library, website = build_tree(archives)
    scan_folder(library, name="library", department="LCSD")
    scan_folder(website, name="website", department="NEWS")
    Source.objects.filter(name="library").update(authoritative=True)
    Source.objects.filter(name="website").update(risk_tier=Source.RiskTier.EXTERNAL)
    return Archive(library=library, website=website)


def rescan(root: Path, name: str):
    """Scan a source again (the evidence tasks are verified by)."""
    return scan_folder(root, name=name)


def enable_execution(source_name: str) -> None:
    SourcePolicy.objects.update_or_create(
        source=Source.objects.get(name=source_name), defaults={"execution_enabled": True}
    )


def task_on(path: str, source: str = "library") -> RemediationTask:
    return RemediationTask.objects.get(copy__source__name=source, copy__path=path)
