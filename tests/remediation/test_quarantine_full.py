"""A quarantine destination that fills up: the original stays where it was, nothing is lost."""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

import pytest

from inventory.sample_archive import PHOTOS_DIR
from inventory.storage.moves import MoveRefused, move_verified
from tests.full_volume import FullVolume


def test_a_move_to_a_full_quarantine_volume_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tmp_path / "source" / "backup" / "rocket.jpg"
    original.parent.mkdir(parents=True)
    shutil.copyfile(PHOTOS_DIR / "rocket.jpg", original)
    before = original.read_bytes()
    sha256 = hashlib.sha256(before).hexdigest()
    volume = FullVolume(tmp_path / "quarantine", capacity=len(before) // 3).install(monkeypatch)
    destination = volume.root / "source" / "backup" / "rocket.jpg"

    def other_volume(self, target):  # the quarantine root is on another file system
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(Path, "rename", other_volume)

    with pytest.raises(MoveRefused) as refused:
        move_verified(original, destination, sha256=sha256)

    assert "is full" in str(refused.value)
    assert f"the file needs {len(before):,}" in str(refused.value)
    assert f"{original} was kept where it was" in str(refused.value)
    assert original.read_bytes() == before
    assert [p for p in volume.root.rglob("*") if p.is_file()] == []  # no partial copy left
