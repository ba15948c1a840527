"""Scanning: exact groups, bad input, incremental rescans, moves, missing files, safety."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Copy, Rendition, Scan, ScanError
from inventory.sample_archive import ARCHIVE_LAYOUT
from inventory.selectors.groups import duplicate_groups
from inventory.services.scan import scan_run
from inventory.services.scan_examine import _examine_in_pool
from inventory.services.scan_lifecycle import ScanAlreadyRunning, scan_start
from inventory.services.sources import SourceRefused, source_register
from tests.inventory.scan_helpers import inventory_snapshot, scan_folder, source_named

pytestmark = pytest.mark.django_db

BAD_FILES = {
    "incoming/empty.jpg": "empty file",
    "incoming/truncated.jpg": "truncated",
    "incoming/notes.jpg": "not an image",
    "incoming/bomb.png": "decompression bomb",
    "incoming/missing_link.jpg": "broken symbolic link",
    "incoming/loop_a.jpg": "symbolic link loop",
    "incoming/loop_b.jpg": "symbolic link loop",
}


def _scan_all(roots: dict[str, Path], **kwargs) -> dict[str, Scan]:
    return {name: scan_folder(root, name=name, **kwargs) for name, root in roots.items()}


def _tree_state(root: Path) -> dict[str, tuple[int, int, bytes]]:
    state = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if path.is_symlink():
                continue
            stat = path.stat()
            state[str(path)] = (stat.st_size, stat.st_mtime_ns, path.read_bytes())
    return state


def test_scan_puts_each_copy_in_its_exact_group(sample_archive):
    scans = _scan_all(sample_archive)
    assert all(scan.status == Scan.Status.FINISHED for scan in scans.values())
    groups = {
        frozenset((m.copy.source.name, m.copy.path) for m in g.members): g
        for g in duplicate_groups()
    }
    # Every byte copy or metadata-only edit in the layout sits in its master's group.
    by_key = {e.key: e for e in ARCHIVE_LAYOUT}
    for entry in ARCHIVE_LAYOUT:
        if entry.relation not in ("exact_copy", "same_pixels"):
            continue
        origin = by_key[entry.made_from]
        group = next(g for members, g in groups.items() if (entry.source, entry.path) in members)
        member = next(m for m in group.members if m.copy.path == entry.path)
        assert (origin.source, origin.path) in {
            (m.copy.source.name, m.copy.path) for m in group.members
        }
        assert member.tier == "certain"
        if origin.relation == "master" and member.relation != "master":
            assert member.relation == entry.relation, entry
    astronaut = next(g for g in groups.values() if g.master.path == "stills/astronaut.jpg")
    relations = sorted(m.relation for m in astronaut.members if m.tier == "certain")
    assert relations == ["exact_copy", "exact_copy", "exact_copy", "master", "same_pixels"]
    assert astronaut.reclaimable_bytes == sum(
        m.copy.size for m in astronaut.members[1:] if m.tier == "certain"
    )
    # Re-encodes and resizes are different pixels: never in the certain (exact) tier.
    for group in groups.values():
        for member in group.members:
            if member.copy.path in ("web/cafe_cup_half.jpg", "web/camera_q60.jpg"):
                assert member.tier != "certain"


def test_master_copy_is_in_the_authoritative_source(sample_archive):
    film = source_register(
        root=sample_archive["film_archive"], name="film_archive", authoritative=True
    )
    for name in ("newsroom", "web_team"):
        scan_folder(sample_archive[name], name=name)
    scan_run(source=film, workers=1)
    for group in duplicate_groups():
        if any(m.copy.source_id == film.pk for m in group.members):
            assert group.master.source_id == film.pk


def test_bad_files_are_recorded_with_reasons_and_the_scan_finishes(sample_archive):
    scan = scan_folder(sample_archive["newsroom"], name="newsroom")
    assert scan.status == Scan.Status.FINISHED
    errors = {e.path: e.error for e in scan.error_entries.all()}
    for path, reason in BAD_FILES.items():
        assert reason in errors[path], (path, errors.get(path))
    undecodable = [p for p in errors if p.startswith("incoming/caf")]
    if undecodable:  # only where the file system accepted the non-UTF-8 name
        assert "not valid UTF-8" in errors[undecodable[0]]
    assert scan.errors == len(errors)
    # Good files around them were inventoried.
    assert Copy.objects.filter(source__name="newsroom", problem="", state="present").count() >= 10
    # A file that exists but is not an image is still accounted for, with its problem.
    empty = Copy.objects.get(path="incoming/empty.jpg")
    assert empty.size == 0 and "empty" in empty.problem and empty.rendition is None


def test_scan_command_exits_zero_with_errors_and_prints_a_summary(sample_archive, capsys):
    call_command(
        "scan",
        str(sample_archive["newsroom"]),
        "--department",
        "NEWS",
        "--workers",
        "1",
        "--no-progress",
    )
    out = capsys.readouterr().out
    assert "finished" in out
    assert "errors" in out and "duplicate groups" in out and "reclaimable" in out
    assert source_named("newsroom").department.code == "NEWS"


def test_scan_with_a_process_pool_gives_the_same_inventory(sample_archive, settings):
    settings.PROVENA_SCAN_BATCH_SIZE = 3
    _scan_all(sample_archive, workers=1)
    single = inventory_snapshot()
    Copy.objects.all().delete()
    Rendition.objects.all().delete()
    for source in ("film_archive", "newsroom", "web_team"):
        scan_run(source=source_named(source), workers=2)
    assert inventory_snapshot() == single


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_batch_is_examined_once_whoever_examines_it(sample_archive, tmp_path, workers):
    root = sample_archive["film_archive"]
    paths = sorted(str(p.relative_to(root)) for p in root.rglob("*.jpg") if p.is_file())
    batches = [(index, [path]) for index, path in enumerate(paths)]
    options = {"thumbnail_dir": str(tmp_path), "max_pixels": 10**8}
    seen = [
        (index, [e.path for e in exams])
        for index, exams in _examine_in_pool(str(root), batches, workers, options)
    ]
    assert sorted(seen) == batches


def test_scanning_never_writes_to_the_scanned_tree(sample_archive):
    before = {name: _tree_state(root) for name, root in sample_archive.items()}
    _scan_all(sample_archive)
    _scan_all(sample_archive)
    after = {name: _tree_state(root) for name, root in sample_archive.items()}
    assert after == before


def test_thumbnails_are_written_under_the_media_root_only(sample_archive, settings):
    scan_folder(sample_archive["film_archive"], name="film_archive")
    rendition = Rendition.objects.exclude(thumbnail="").first()
    thumb = settings.PROVENA_MEDIA_ROOT / "thumbnails" / rendition.thumbnail
    assert thumb.is_file() and thumb.read_bytes()[:2] == b"\xff\xd8"
    assert not list(sample_archive["film_archive"].rglob("*thumb*"))


def test_rescan_skips_unchanged_files(sample_archive, monkeypatch):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    reads = []
    import inventory.services.scan_examine as scan_module

    real = scan_module.examine_batch
    monkeypatch.setattr(
        scan_module,
        "examine_batch",
        lambda r, paths, **kw: reads.append(paths) or real(r, paths, **kw),
    )
    second = scan_run(source=source_named("film_archive"), workers=1)
    assert reads == []
    assert second.files_unchanged == second.files_seen > 0
    assert second.files_new == second.files_changed == second.files_missing == 0


def test_rescan_reads_a_changed_file_and_updates_its_copy(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    target = root / "stills" / "coffee.jpg"
    old_sha = Copy.objects.get(path="stills/coffee.jpg").sha256
    shutil.copyfile(root / "stills" / "chelsea.jpg", target)
    scan = scan_run(source=source_named("film_archive"), workers=1)
    copy = Copy.objects.get(path="stills/coffee.jpg")
    assert scan.files_changed == 1
    assert copy.sha256 != old_sha
    assert copy.rendition == Copy.objects.get(path="stills/chelsea.jpg").rendition


def test_moved_file_keeps_its_copy_record(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    before = Copy.objects.get(path="stills/rocket.jpg")
    (root / "moved").mkdir()
    (root / "stills" / "rocket.jpg").rename(root / "moved" / "rocket.jpg")
    scan = scan_run(source=source_named("film_archive"), workers=1)
    after = Copy.objects.get(pk=before.pk)
    assert scan.files_moved == 1 and scan.files_new == 0 and scan.files_missing == 0
    assert after.path == "moved/rocket.jpg" and after.state == Copy.State.PRESENT
    assert after.first_seen_at == before.first_seen_at


def test_a_moved_file_copied_twice_keeps_its_record_once(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    before = Copy.objects.get(path="stills/rocket.jpg")
    (root / "moved").mkdir()
    shutil.copy2(root / "stills" / "rocket.jpg", root / "moved" / "rocket_b.jpg")
    (root / "stills" / "rocket.jpg").rename(root / "moved" / "rocket_a.jpg")
    scan = scan_run(source=source_named("film_archive"), workers=1)
    assert scan.files_moved == 1 and scan.files_new == 1 and scan.files_missing == 0
    # The old record follows one path (the first examined); the other is a new copy.
    assert Copy.objects.get(pk=before.pk).path == "moved/rocket_a.jpg"
    fresh = Copy.objects.get(path="moved/rocket_b.jpg")
    assert fresh.pk != before.pk and fresh.sha256 == before.sha256
    assert fresh.state == Copy.State.PRESENT


def test_deleted_file_becomes_missing_not_deleted(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    (root / "stills" / "coins.jpg").unlink()
    scan = scan_run(source=source_named("film_archive"), workers=1)
    copy = Copy.objects.get(path="stills/coins.jpg")
    assert scan.files_missing == 1
    assert copy.state == Copy.State.MISSING and copy.missing_since is not None


def test_a_missing_file_that_returns_is_present_again(sample_archive):
    root = sample_archive["film_archive"]
    scan_folder(root, name="film_archive")
    held = root.parent / "held-coins.jpg"
    (root / "stills" / "coins.jpg").rename(held)
    scan_run(source=source_named("film_archive"), workers=1)
    held.rename(root / "stills" / "coins.jpg")
    scan_run(source=source_named("film_archive"), workers=1)
    copy = Copy.objects.get(path="stills/coins.jpg")
    assert copy.state == Copy.State.PRESENT and copy.missing_since is None


def test_unreachable_root_fails_the_scan_and_marks_nothing_missing(sample_archive):
    root = sample_archive["web_team"]
    scan_folder(root, name="web_team")
    present = Copy.objects.filter(state="present").count()
    shutil.rmtree(root)
    scan = scan_run(source=source_named("web_team"), workers=1)
    assert scan.status == Scan.Status.FAILED
    assert "not reachable" in scan.failure_reason
    assert Copy.objects.filter(state="present").count() == present


def test_empty_root_of_a_populated_source_looks_unmounted(sample_archive):
    root = sample_archive["web_team"]
    scan_folder(root, name="web_team")
    shutil.rmtree(root)
    root.mkdir()  # what an unmounted share's mount point looks like
    with pytest.raises(CommandError, match="is the share mounted"):
        call_command("scan", str(root), "--workers", "1", "--no-progress")
    assert not Copy.objects.filter(state="missing").exists()


def test_scan_refuses_a_path_outside_the_allowed_roots(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(CommandError, match="is not under PROVENA_ALLOWED_ROOTS"):
        call_command("scan", str(outside), "--no-progress")


def test_scan_refuses_a_path_that_does_not_exist(archives):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("scan", str(archives / "nope"), "--no-progress")


def test_scan_refuses_a_path_that_escapes_through_a_symlink(archives, tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (archives / "sneaky").symlink_to(outside)
    with pytest.raises(SourceRefused, match="not under PROVENA_ALLOWED_ROOTS"):
        source_register(root=archives / "sneaky")


def test_two_scans_of_one_source_cannot_run_at_once(sample_archive):
    source = source_register(root=sample_archive["web_team"], name="web_team")
    scan_start(source=source, started_by=None, parameters={})
    with pytest.raises(ScanAlreadyRunning, match="already running"):
        scan_run(source=source, workers=1)


def test_a_scan_whose_process_died_is_marked_interrupted(sample_archive):
    source = source_register(root=sample_archive["web_team"], name="web_team")
    dead = scan_start(source=source, started_by=None, parameters={})
    Scan.objects.filter(pk=dead.pk).update(pid=2**22 + 12345)  # no such process
    scan = scan_run(source=source, workers=1)
    dead.refresh_from_db()
    assert dead.status == Scan.Status.INTERRUPTED
    assert scan.status == Scan.Status.FINISHED


def test_every_scan_lists_known_bad_files_again(sample_archive):
    scan_folder(sample_archive["newsroom"], name="newsroom")
    second = scan_run(source=source_named("newsroom"), workers=1)
    paths = set(ScanError.objects.filter(scan=second).values_list("path", flat=True))
    assert set(BAD_FILES) <= paths
