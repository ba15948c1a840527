"""Fixity: re-hashing present copies read-only, flagging changed and vanished files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.audit import audit_verify
from governance.models import AuditEvent
from inventory.models import Copy
from inventory.services.fixity import CHANGED, MISSING, fixity_check
from inventory.services.scan import scan_run
from inventory.services.scan_lifecycle import scan_start
from inventory.tasks import fixity_check_sources
from tests.inventory.scan_helpers import scan_folder, source_named

pytestmark = pytest.mark.django_db


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


def _flip_a_byte_keeping_size_and_mtime(path: Path) -> None:
    """Corrupt one byte in the middle of the file the way bit rot does: no size or mtime change."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def _fixity_events(**filters) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type="fixity_computed", detail__check="fixity_check", **filters
        ).order_by("seq")
    )


@pytest.fixture
def film(sample_archive) -> Path:
    scan_folder(sample_archive["film_archive"], name="film_archive")
    return sample_archive["film_archive"]


def test_fixity_check_of_an_untouched_tree_passes_and_records_each_copy(film, capsys):
    copies = Copy.objects.filter(source__name="film_archive")
    total = copies.count()

    call_command("fixity_check", "--source", "film_archive")

    out = capsys.readouterr().out
    assert f"{total} copies checked, {total} passed, 0 changed, 0 missing" in out
    assert copies.filter(fixity_ok=True, fixity_checked_at__isnull=False).count() == total
    events = _fixity_events()
    assert sorted(e.object_id for e in events) == sorted(
        str(pk) for pk in copies.values_list("pk", flat=True)
    )
    assert {e.outcome for e in events} == {"success"}
    by_copy = {e.object_id: e.detail["sha256"] for e in events}
    assert all(by_copy[str(c.pk)] == c.sha256 for c in copies)
    assert audit_verify().ok


def test_a_flipped_byte_is_flagged_and_the_recorded_hash_kept(film, capsys):
    target = film / "stills" / "rocket.jpg"
    copy = Copy.objects.get(source__name="film_archive", path="stills/rocket.jpg")
    _flip_a_byte_keeping_size_and_mtime(target)

    with pytest.raises(CommandError, match="1 copies did not verify"):
        call_command("fixity_check", "--source", "film_archive")

    out = capsys.readouterr().out
    assert "1 changed" in out
    assert "film_archive:stills/rocket.jpg" in out and "possible corruption" in out
    recorded = copy.sha256
    copy.refresh_from_db()
    assert (copy.fixity_ok, copy.sha256, copy.state) == (False, recorded, "present")
    (event,) = _fixity_events(object_id=str(copy.pk))
    assert event.outcome == "failure"
    assert event.detail["recorded_sha256"] == recorded
    assert event.detail["observed_sha256"] not in ("", recorded)
    # The other copies passed; an unchanged rescan does not read the file or clear the flag.
    assert Copy.objects.filter(source__name="film_archive", fixity_ok=True).count() > 0
    scan_run(source=source_named("film_archive"), workers=1)
    copy.refresh_from_db()
    assert (copy.fixity_ok, copy.sha256) == (False, recorded)


def test_a_file_modified_since_the_scan_is_told_apart_from_corruption(film):
    target = film / "stills" / "coffee.jpg"
    target.write_bytes(target.read_bytes() + b"appended")

    result = fixity_check(source=source_named("film_archive"))

    (problem,) = result.problems
    assert problem.kind == CHANGED and "modified since the last scan" in problem.reason
    assert not result.ok


def test_a_deleted_file_becomes_missing_with_an_event(film):
    (film / "stills" / "coins.jpg").unlink()
    copy = Copy.objects.get(source__name="film_archive", path="stills/coins.jpg")

    with pytest.raises(CommandError, match="did not verify"):
        call_command("fixity_check", "--source", "film_archive")

    copy.refresh_from_db()
    assert copy.state == Copy.State.MISSING and copy.missing_since is not None
    (event,) = _fixity_events(object_id=str(copy.pk))
    assert (event.outcome, event.detail["problem"]) == ("failure", MISSING)
    assert Copy.objects.filter(source__name="film_archive", state="missing").count() == 1


@pytest.mark.parametrize("how", ["removed", "unmounted"])
def test_an_unreachable_root_is_refused_and_nothing_is_marked(film, how, capsys):
    shutil.rmtree(film)
    if how == "unmounted":
        film.mkdir()  # what an unmounted share's mount point looks like
    before = set(Copy.objects.values_list("pk", "state", "fixity_ok", "fixity_checked_at"))

    with pytest.raises(CommandError, match="1 source\\(s\\) refused"):
        call_command("fixity_check", "--source", "film_archive")

    out = capsys.readouterr().out
    assert "not reachable" in out if how == "removed" else "is the share mounted" in out
    assert set(Copy.objects.values_list("pk", "state", "fixity_ok", "fixity_checked_at")) == before
    assert not _fixity_events(object_type="copy")
    (refusal,) = _fixity_events(object_type="source")
    assert refusal.outcome == "failure"


def test_fixity_check_never_writes_to_the_tree(film, sample_archive):
    _flip_a_byte_keeping_size_and_mtime(film / "stills" / "camera.jpg")
    (film / "stills" / "chelsea.jpg").unlink()
    before = {name: _tree_state(root) for name, root in sample_archive.items()}

    for name in ("newsroom", "web_team"):
        scan_folder(sample_archive[name], name=name)
    fixity_check(source=None)
    fixity_check(source=None)

    assert {name: _tree_state(root) for name, root in sample_archive.items()} == before


def test_fixity_check_of_every_source_reports_each_sources_failures(film, sample_archive):
    scan_folder(sample_archive["web_team"], name="web_team")
    _flip_a_byte_keeping_size_and_mtime(sample_archive["web_team"] / "images" / "hero.jpg")

    result = fixity_check(source=None)

    assert [(p.source, p.path, p.kind) for p in result.problems] == [
        ("web_team", "images/hero.jpg", CHANGED)
    ]
    assert result.checked == Copy.objects.exclude(sha256="").count()
    assert result.passed == result.checked - 1


def test_fixity_check_waits_for_a_running_scan(film):
    scan_start(source=source_named("film_archive"), started_by=None, parameters={})

    result = fixity_check(source=source_named("film_archive"))

    assert "is running" in result.refused[0]
    assert result.checked == 0
    assert not Copy.objects.filter(fixity_checked_at__isnull=False).exists()


def test_fixity_check_of_an_unknown_source_names_the_known_ones(film):
    with pytest.raises(CommandError, match="no source named 'nope'.*film_archive"):
        call_command("fixity_check", "--source", "nope")


def test_fixity_task_for_celery_beat_returns_the_counts(film):
    (film / "stills" / "coins.jpg").unlink()
    total = Copy.objects.filter(source__name="film_archive").count()

    counts = fixity_check_sources(source_named("film_archive").pk)

    assert counts == {"checked": total, "passed": total - 1, "failed": 1, "refused": 0}
