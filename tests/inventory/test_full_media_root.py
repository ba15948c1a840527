"""A media root that fills up during a scan: the scan fails loudly, keeps nothing half-made,
and a rescan once space is freed ends with the inventory a clean scan makes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from PIL import Image, ImageFile

from inventory.models import Copy, Match, Rendition, Scan, ScanBatch
from inventory.sample_archive import PHOTOS_DIR
from inventory.selectors.groups import duplicate_groups
from inventory.services.scan_examine import scan_batch_run
from inventory.services.scan_lifecycle import scan_parameters, scan_start
from inventory.services.scan_paths import thumbnail_dir
from inventory.services.scan_walk import scan_prepare
from inventory.services.sources import source_register
from tests.full_volume import FullVolume
from tests.inventory.scan_helpers import inventory_snapshot, scan_folder

pytestmark = pytest.mark.django_db

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
BATCH = 4  # files per batch: backups, stills, then two batches of web derivatives


def _archive(root: Path) -> Path:
    """Write four photographs, a byte copy, a half-size export and a re-encode of each."""
    for folder in ("stills", "backup", "web"):
        (root / folder).mkdir(parents=True)
    for photo in PHOTOS:
        origin = PHOTOS_DIR / f"{photo}.jpg"
        shutil.copyfile(origin, root / "stills" / f"{photo}.jpg")
        shutil.copyfile(origin, root / "backup" / f"{photo}.jpg")
        with Image.open(origin) as image:
            half = (round(image.width / 2), round(image.height / 2))
            image.resize(half, Image.Resampling.LANCZOS).save(
                root / "web" / f"{photo}_half.jpg", quality=90
            )
            image.save(root / "web" / f"{photo}_q60.jpg", quality=60)
    return root


def _groups() -> set[frozenset]:
    """Return every duplicate group as the set of (path, relation, tier) of its members."""
    return {
        frozenset((m.copy.path, m.relation, m.tier) for m in group.members)
        for group in duplicate_groups()
    }


def _thumbnails_by_path() -> dict[str, tuple[str, int]]:
    """Return each file's thumbnail name and size in bytes."""
    root = thumbnail_dir()
    return {
        c.path: (c.rendition.thumbnail, (root / c.rendition.thumbnail).stat().st_size)
        for c in Copy.objects.select_related("rendition")
    }


def _assert_every_thumbnail_whole(folder: Path) -> None:
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    assert not [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".jpg")]
    for path in folder.rglob("*.jpg"):
        with Image.open(path) as thumbnail:
            thumbnail.load()  # raises on a truncated file


def test_a_full_media_root_fails_the_scan_and_a_rescan_equals_a_clean_scan(
    archives: Path, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _archive(archives / "photos")
    settings.PROVENA_SCAN_BATCH_SIZE = BATCH
    # What a scan with room to spare makes, measured and then rolled back.
    settings.PROVENA_MEDIA_ROOT = tmp_path / "roomy-media"
    with transaction.atomic():
        assert scan_folder(root).status == Scan.Status.FINISHED
        clean_groups, clean_inventory = _groups(), inventory_snapshot()
        thumbnails = _thumbnails_by_path()
        transaction.set_rollback(True)
    assert len(clean_groups) == len(PHOTOS)  # each photograph with its four files
    assert all(len(group) == 4 for group in clean_groups)
    # A volume with room for the first three batches' thumbnails and half of the next one.
    paths = sorted(thumbnails)
    fitted, first_refused = set(paths[: 3 * BATCH]), thumbnails[paths[3 * BATCH]][1]
    capacity = sum(dict(thumbnails[p] for p in fitted).values()) + first_refused // 2
    settings.PROVENA_MEDIA_ROOT = tmp_path / "media"
    settings.PROVENA_FACES = True
    volume = FullVolume(settings.PROVENA_MEDIA_ROOT, capacity).install(monkeypatch)

    with pytest.raises(CommandError) as failure:
        call_command("scan", str(root), "--no-progress")

    message = str(failure.value)
    assert failure.value.returncode == 1
    assert re.search(r"failed: media root full: [\d,]+ bytes free, needs about [\d,]+", message)
    scan = Scan.objects.get()
    assert scan.status == Scan.Status.FAILED
    assert scan.failure_reason.startswith("media root full: ")
    assert "scan again" in scan.failure_reason
    free = int(re.search(r"([\d,]+) bytes free", message).group(1).replace(",", ""))
    assert free == capacity - volume.used() < first_refused
    # Nothing half-made: the batch that met the full disk is not recorded, every thumbnail
    # under its final name is whole, and no temporary file is left.
    recorded = set(Copy.objects.values_list("path", flat=True))
    assert recorded == fitted
    assert scan.files_examined == 3 * BATCH
    _assert_every_thumbnail_whole(thumbnail_dir())
    assert all((thumbnail_dir() / r.thumbnail).is_file() for r in Rendition.objects.all())
    # Neither matching nor the face pass ran on the incomplete inventory.
    assert not Match.objects.exists()
    assert not Rendition.objects.filter(matched_at__isnull=False).exists()
    assert not Rendition.objects.filter(faces_checked_at__isnull=False).exists()

    monkeypatch.undo()  # space is freed
    settings.PROVENA_SCAN_BATCH_SIZE = BATCH
    settings.PROVENA_MEDIA_ROOT = tmp_path / "media"
    rescan = scan_folder(root)

    assert rescan.status == Scan.Status.FINISHED
    assert rescan.errors == 0
    assert _groups() == clean_groups
    assert inventory_snapshot() == clean_inventory
    _assert_every_thumbnail_whole(thumbnail_dir())
    assert not Rendition.objects.filter(faces_checked_at__isnull=True).exists()


def test_a_celery_batch_that_meets_a_full_media_root_fails_the_scan_without_retrying(
    archives: Path, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _archive(archives / "photos")
    source = source_register(root=root)
    scan = scan_start(source=source, started_by=None, parameters=scan_parameters(workers=1))
    scan_prepare(scan=scan, timings={})
    FullVolume(settings.PROVENA_MEDIA_ROOT, capacity=0).install(monkeypatch)

    recorded = scan_batch_run(scan_id=scan.pk, batch_index=0)

    scan.refresh_from_db()
    assert recorded == 0
    assert scan.status == Scan.Status.FAILED
    assert re.match(r"media root full: 0 bytes free, needs about [\d,]+ ", scan.failure_reason)
    assert ScanBatch.objects.get(scan=scan, index=0).status == ScanBatch.Status.PENDING
    assert not Copy.objects.exists()
