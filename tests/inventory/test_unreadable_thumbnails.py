"""Verification that cannot read a thumbnail is an error the scan reports, never "not same";
the next scan rewrites the thumbnail and compares the pair."""

from __future__ import annotations

import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image, ImageFile

from inventory.models import Copy, Match, Scan, Source
from inventory.pairs.pairing import VerifyJob, verify_jobs
from inventory.pairs.verification import RenditionInfo
from inventory.sample_archive import PHOTOS_DIR
from inventory.selectors.findings import findings_document
from inventory.selectors.groups import duplicate_groups
from inventory.services.scan_paths import thumbnail_dir
from tests.inventory.scan_helpers import scan_folder

pytestmark = pytest.mark.django_db


def _group_of(path: str) -> set[str]:
    for group in duplicate_groups():
        paths = {m.copy.path for m in group.members}
        if path in paths:
            return paths
    return {path}


def _scan_command(root: Path) -> tuple[Scan, str]:
    out = StringIO()
    call_command("scan", str(root), "--no-progress", stdout=out)
    return Scan.objects.latest("pk"), out.getvalue()


def test_an_unreadable_thumbnail_is_a_scan_error_and_the_next_scan_compares_the_pair(
    archives: Path, client: Client, role_users
) -> None:
    root = archives / "photos"
    (root / "stills").mkdir(parents=True)
    for photo in ("astronaut", "coffee"):
        shutil.copyfile(PHOTOS_DIR / f"{photo}.jpg", root / "stills" / f"{photo}.jpg")
    shutil.copyfile(PHOTOS_DIR / "astronaut.jpg", root / "stills" / "astronaut_backup.jpg")
    assert scan_folder(root).status == Scan.Status.FINISHED
    # The master's thumbnail is damaged on disk (a volume that failed, a restore gone wrong),
    # and a half-size export of the photograph arrives.
    master = Copy.objects.get(path="stills/astronaut.jpg").rendition
    damaged = thumbnail_dir() / master.thumbnail
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size * 4 // 10])
    with Image.open(PHOTOS_DIR / "astronaut.jpg") as image:
        half = (image.width // 2, image.height // 2)
        image.resize(half, Image.Resampling.LANCZOS).save(root / "web_half.jpg", quality=90)

    scan, summary = _scan_command(root)

    assert scan.status == Scan.Status.FINISHED
    assert scan.timings["matching"]["unverifiable"] == 1
    assert scan.timings["matching"]["not_same"] == 0
    errors = dict(scan.error_entries.values_list("path", "error"))
    assert set(errors) == {"stills/astronaut.jpg", "stills/astronaut_backup.jpg"}
    assert (
        "not compared with 1 possible near-duplicate(s): thumbnail "
        in errors["stills/astronaut.jpg"]
    )
    assert "cannot be read" in errors["stills/astronaut.jpg"]
    assert scan.errors == 2
    assert re.search(r"errors\s+2\n", summary)
    assert re.search(r"unverified pairs\s+1 ", summary)
    assert not Match.objects.exists()
    assert "web_half.jpg" not in _group_of("stills/astronaut.jpg")
    # The export and the scan page say so too.
    exported = findings_document(sources=Source.objects.all())["errors"]
    assert {e["path"] for e in exported} == set(errors)
    client.force_login(role_users["administrator"])
    page = client.get(f"/scans/{scan.pk}/").content.decode()
    assert "not compared with 1 possible near-duplicate(s)" in page
    assert "stills/astronaut_backup.jpg" in page

    rescan, _ = _scan_command(root)

    assert rescan.status == Scan.Status.FINISHED
    assert rescan.errors == 0
    assert rescan.files_to_examine == 2  # the master's two files, to rewrite its thumbnail
    with Image.open(damaged) as thumbnail:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        thumbnail.load()
    assert _group_of("stills/astronaut.jpg") == {
        "stills/astronaut.jpg",
        "stills/astronaut_backup.jpg",
        "web_half.jpg",
    }
    assert findings_document(sources=Source.objects.all())["errors"] == []


def test_verification_refuses_a_truncated_thumbnail_even_when_pillow_would_pad_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, cut = tmp_path / "whole.jpg", tmp_path / "cut.jpg"
    with Image.open(PHOTOS_DIR / "coffee.jpg") as image:
        image.thumbnail((320, 320))
        image.save(whole, quality=80)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    # WeasyPrint and face_recognition set this when imported in the same process: Pillow
    # would then pad the missing half with grey and the pair would read as "not same".
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    info = RenditionInfo(
        width=320, height=213, format="JPEG", mode="RGB", file_size=1, capture_time=None,
        metadata_fields=0, orientation=1,
    )  # fmt: skip
    job = VerifyJob(
        a=1, b=2, thumb_a=str(whole), thumb_b=str(cut), info_a=info, info_b=info,
        hint="global>global", probe_is_a=True,
    )  # fmt: skip

    [result] = verify_jobs([job])

    assert result.verdict is None
    assert result.unreadable == 2
    assert "cut.jpg cannot be read" in result.error
