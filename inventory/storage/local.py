"""A source that is a folder on this machine (or a share mounted at the same path)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from inventory.storage.moves import MoveRefused, file_sha256, move_verified, regular_file_problem
from inventory.storage.walk import WalkResult, walk_tree


class PathOutsideSource(ValueError):
    """A stored path that would leave the source's root (absolute, or with `..`)."""


class LocalStore:
    """Read a source's files from a local folder; writes only the quarantine moves."""

    def __init__(self, root: str) -> None:
        self._root = root

    @property
    def location(self) -> str:
        return self._root

    @property
    def local_root(self) -> Path:
        return Path(self._root)

    def is_reachable(self) -> bool:
        return Path(self._root).is_dir()

    def is_empty(self) -> bool:
        try:
            with os.scandir(self._root) as entries:
                return next(entries, None) is None
        except OSError:
            return True

    def walk(self, extensions: Iterable[str]) -> WalkResult:
        return walk_tree(self._root, extensions)

    def local_path(self, path: str) -> Path:
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            raise PathOutsideSource(f"{path!r} is not a path inside the source {self._root}")
        return Path(self._root, *relative.parts)

    def stat(self, path: str) -> os.stat_result:
        return os.lstat(self.local_path(path))

    def open(self, path: str) -> BinaryIO:
        return self.local_path(path).open("rb")

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.local_path(path))

    def sha256(self, path: str) -> str:
        return file_sha256(self.local_path(path))

    def move_problem(self, path: str) -> str | None:
        try:
            local = self.local_path(path)
        except PathOutsideSource as exc:
            return str(exc)
        return regular_file_problem(local, self.local_root)

    def move_to_quarantine(self, path: str, destination: Path, *, sha256: str) -> str:
        problem = self.move_problem(path)
        if problem:
            raise MoveRefused(problem)
        return move_verified(self.local_path(path), destination, sha256=sha256)

    def move_from_quarantine(
        self, held: Path, path: str, *, sha256: str, mtime_ns: int | None = None
    ) -> str:
        original = self.local_path(path)
        after = move_verified(held, original, sha256=sha256)
        if mtime_ns is not None:
            os.utime(original, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
        return after
