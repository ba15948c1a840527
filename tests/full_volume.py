"""A folder on a simulated small volume: writes beyond its capacity fail with ENOSPC.

Neither a loop mount nor a tmpfs can be made here without privileges, so the volume is
simulated at the edge, the os-level write: os.write (and os.sendfile, which shutil's copies
use) to a file under the folder writes what still fits and then raises OSError(ENOSPC), as
write(2) does on a full file system; the
space in use is what the folder's files hold, so removing a file frees its bytes.
shutil.disk_usage reports the same figures for paths under the folder.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest


class Usage(NamedTuple):
    total: int
    used: int
    free: int


class FullVolume:
    """A folder whose volume holds capacity bytes of file data."""

    def __init__(self, root: Path, capacity: int) -> None:
        self.root = root.resolve()
        self.capacity = capacity
        self.refused = 0  # writes that met the full volume
        self._write = os.write
        self._sendfile = os.sendfile
        self._disk_usage = shutil.disk_usage

    def used(self) -> int:
        """Return the bytes the folder's files hold now."""
        total = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                try:
                    total += os.lstat(Path(folder) / name).st_size
                except FileNotFoundError:
                    continue
        return total

    def _holds(self, path: str) -> bool:
        return path == str(self.root) or path.startswith(f"{self.root}/")

    def _room(self, fd: int) -> int | None:
        """Return the bytes a write to fd may still put on the volume (None: not on it)."""
        try:
            path = str(Path(f"/proc/self/fd/{fd}").readlink())
        except OSError:
            return None
        if not self._holds(path):
            return None
        room = self.capacity - self.used()
        if room <= 0:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return room

    def write(self, fd: int, data) -> int:
        room = self._room(fd)
        if room is None:
            return self._write(fd, data)
        return self._write(fd, bytes(memoryview(data).cast("B")[:room]))

    def sendfile(self, out_fd: int, in_fd: int, offset, count: int) -> int:
        # shutil.copyfile copies with sendfile(2) on Linux, which fills a volume the same way.
        room = self._room(out_fd)
        return self._sendfile(out_fd, in_fd, offset, count if room is None else min(count, room))

    def disk_usage(self, path):
        if not self._holds(str(Path(path).resolve())):
            return self._disk_usage(path)
        used = self.used()
        return Usage(self.capacity, used, max(self.capacity - used, 0))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FullVolume:
        """Put the folder on this volume for the rest of the test (or until undone)."""
        self.root.mkdir(parents=True, exist_ok=True)
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "sendfile", self.sendfile)
        monkeypatch.setattr(shutil, "disk_usage", self.disk_usage)
        return self
