"""Tests for inventory.storage: every read of a source's files goes through its store."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.storage.local import LocalStore, PathOutsideSource


def test_a_local_store_walks_and_reads_the_files_under_its_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jpg").write_bytes(b"\xff\xd8\xff one")
    store = LocalStore(str(tmp_path))

    walk = store.walk({".jpg"})

    assert list(walk.files) == ["a/one.jpg"]
    assert store.stat("a/one.jpg").st_size == 7
    with store.open("a/one.jpg") as fh:
        assert fh.read() == b"\xff\xd8\xff one"
    assert store.local_path("a/one.jpg") == tmp_path / "a" / "one.jpg"


@pytest.mark.parametrize("path", ["../outside.jpg", "a/../../outside.jpg", "/etc/passwd"])
def test_a_stored_path_cannot_leave_the_root(tmp_path: Path, path: str) -> None:
    with pytest.raises(PathOutsideSource, match="not a path inside the source"):
        LocalStore(str(tmp_path)).local_path(path)


def test_an_unmounted_share_is_unreachable_and_empty(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path / "not-mounted"))

    assert not store.is_reachable()
    assert store.is_empty()
    (tmp_path / "not-mounted").mkdir()
    assert store.is_reachable() and store.is_empty()
