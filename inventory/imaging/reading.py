"""Read one file's bytes once and stably, whatever changes under it."""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

IN_MEMORY_LIMIT = 256 * 1024 * 1024
_CHUNK_SIZE = 1024 * 1024
_READ_ATTEMPTS = 3
LINK_MESSAGE = "a symbolic link appeared here since the walk; links are not followed"


@dataclass(frozen=True, slots=True)
class FileContent:
    """The bytes of a file as read in one consistent pass."""

    size: int
    mtime_ns: int
    sha256: str
    head: bytes  # the first bytes, for naming what a file that is not an image is
    data: bytes | None  # None when the file is too large to hold in memory


class Unusable(Exception):
    """Carry a human reason why a file cannot be inventoried as an image."""


def file_state(path: Path) -> tuple[int, int]:
    """Return (size, mtime_ns) of a regular file, not following a symbolic link."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise Unusable(LINK_MESSAGE)
    if not stat.S_ISREG(st.st_mode):
        raise Unusable("not a regular file")
    return st.st_size, st.st_mtime_ns


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading only, refusing a symbolic link swapped in since the walk."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")


def read_stable(path: Path) -> FileContent:
    """Read and hash a file, re-reading when it changes underneath us."""
    for _attempt in range(_READ_ATTEMPTS):
        size, mtime_ns = file_state(path)
        data: bytes | None = None
        with open_binary(path) as fh:
            if size <= IN_MEMORY_LIMIT:
                data = fh.read(size + 1)  # one byte more reveals a file that grew
                digest, head = hashlib.sha256(data).hexdigest(), data[:16]
            else:
                hasher, head = hashlib.sha256(), fh.read(16)
                hasher.update(head)
                while chunk := fh.read(_CHUNK_SIZE):
                    hasher.update(chunk)
                digest = hasher.hexdigest()
        if file_state(path) == (size, mtime_ns) and (data is None or len(data) == size):
            return FileContent(size, mtime_ns, digest, head, data)
    raise Unusable(f"file changed while being read ({_READ_ATTEMPTS} attempts)")


@contextmanager
def jpeg_bytes(path: Path, content: FileContent) -> Iterator[bytes | mmap.mmap]:
    """Yield the file's bytes, memory-mapped read-only when too large to hold."""
    if content.data is not None:
        yield content.data
        return
    with open_binary(path) as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield mm
