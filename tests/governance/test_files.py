"""Provena's own files are written whole or not at all, even on a volume that fills up."""

from __future__ import annotations

import errno
import zipfile
from pathlib import Path

import pytest

from governance.files import append_line, atomic_write, copy_atomic, write_bytes_atomic
from tests.full_volume import FullVolume


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_file_is_written_whole_and_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.pdf"

    write_bytes_atomic(target, b"%PDF-1.7 whole")

    assert target.read_bytes() == b"%PDF-1.7 whole"
    assert target.stat().st_mode & 0o777 == 0o644
    assert _names(target.parent) == ["report.pdf"]  # no temporary left beside it


def test_a_full_volume_leaves_no_file_under_the_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    volume = FullVolume(tmp_path / "media", capacity=10_000).install(monkeypatch)
    target = volume.root / "thumbnails" / "ab" / "abc.jpg"

    with pytest.raises(OSError) as failure:
        write_bytes_atomic(target, b"x" * 25_000)

    assert failure.value.errno == errno.ENOSPC
    assert not target.exists()
    assert _names(target.parent) == []  # the 10,000 bytes that fitted were removed too
    assert volume.used() == 0


def test_a_failed_rewrite_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "media" / "export.json"
    write_bytes_atomic(target, b'{"old": true}')
    FullVolume(tmp_path / "media", capacity=20).install(monkeypatch)

    with pytest.raises(OSError):
        write_bytes_atomic(target, b'{"new": "much longer than the room left"}')

    assert target.read_bytes() == b'{"old": true}'
    assert _names(target.parent) == ["export.json"]


def test_a_failure_inside_the_block_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "packs" / "pack.zip"

    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"PK half a pack")
        raise RuntimeError("the pack could not be finished")

    assert _names(target.parent) == []


def test_a_zip_written_through_it_reads_back(tmp_path: Path) -> None:
    target = tmp_path / "response.zip"

    with atomic_write(target) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("images/a.jpg", b"\xff\xd8" + b"a" * 5000)
        z.writestr("copies.csv", "source,path\n")

    with zipfile.ZipFile(target) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == ["copies.csv", "images/a.jpg"]


def test_a_copy_that_does_not_fit_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF" + b"0" * 50_000)
    volume = FullVolume(tmp_path / "out", capacity=30_000).install(monkeypatch)

    with pytest.raises(OSError):
        copy_atomic(source, volume.root / "copy.pdf")

    assert _names(volume.root) == []


def test_an_append_the_disk_cannot_take_leaves_the_log_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "quarantine" / "manifest.jsonl"
    append_line(log, '{"entry": 1}')
    FullVolume(tmp_path / "quarantine", capacity=log.stat().st_size + 5).install(monkeypatch)

    with pytest.raises(OSError):
        append_line(log, '{"entry": 2, "action": "quarantined"}')

    assert log.read_text() == '{"entry": 1}\n'  # no half line at the end
