"""A source that is a folder on this machine (or a share mounted at the same path)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from inventory.storage.walk import WalkResult, walk_tree


class PathOutsideSource(ValueError):
    """A stored path that would leave the source's root (absolute, or with `..`)."""


class LocalStore:
    """Read a source's files from a local folder; never writes to it."""

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
