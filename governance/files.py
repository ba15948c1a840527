"""Write Provena's own files whole or not at all, and tell a failing volume from a bad file.

Every file Provena writes (thumbnails, redactions, report PDFs, response packs, exports,
quarantine manifests) goes through here: the bytes go to a temporary name in the target's
folder, are flushed to disk, and only then take the final name. A write that fails (a full
disk, a quota, an I/O error, a crash) leaves no file under the final name and removes the
temporary one, so a reader never meets half a file.

Plain functions on paths (no Django), so image workers and tests can use them alone.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# The errors that say the volume cannot take writes at all, rather than that one file is bad.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})
_BUFFER = 1024 * 1024


def is_storage_failure(exc: BaseException) -> bool:
    """Return whether exc says the volume is full, over quota or failing."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def free_bytes(path: Path | str) -> int:
    """Return the bytes an ordinary user may still write on the volume holding path."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def storage_problem(exc: OSError) -> str:
    """Return what is wrong with the volume in a few words: full, over quota or failing."""
    if exc.errno == errno.ENOSPC:
        return "full"
    if exc.errno == errno.EDQUOT:
        return "over its quota"
    return f"failing ({exc.strerror or exc})"


class _FdWriter(io.RawIOBase):
    """Write to a file descriptor with os.write, handling short writes.

    It offers no fileno(), so Pillow and zipfile write through it rather than straight to
    the descriptor, and every byte passes one place a full volume is met.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data).cast("B")
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        return written

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self._fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries, so a rename into it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(
    path: Path | str, *, mode: int = 0o644, create_folder: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file to write; it takes the name path only if the block succeeds.

    create_folder=False is for paths a person typed: a folder that does not exist is then
    their mistake to hear about (FileNotFoundError), not one to paper over.
    """
    target = Path(path)
    if create_folder:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, mode)  # mkstemp's 0600 would hide thumbnails from the web server
            handle = io.BufferedWriter(_FdWriter(fd), buffer_size=_BUFFER)
            yield handle
            handle.flush()
            os.fsync(fd)
        finally:
            os.close(fd)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_bytes_atomic(
    path: Path | str, data: bytes, *, mode: int = 0o644, create_folder: bool = True
) -> None:
    """Write data as the whole file at path, or leave no file there."""
    with atomic_write(path, mode=mode, create_folder=create_folder) as handle:
        handle.write(data)


def write_text_atomic(
    path: Path | str, text: str, *, mode: int = 0o644, create_folder: bool = True
) -> None:
    """Write text (UTF-8) as the whole file at path, or leave no file there."""
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode, create_folder=create_folder)


def copy_atomic(
    source: Path | str, target: Path | str, *, mode: int = 0o644, create_folder: bool = True
) -> None:
    """Copy the file at source to target, whole or not at all."""
    with (
        Path(source).open("rb") as reader,
        atomic_write(target, mode=mode, create_folder=create_folder) as handle,
    ):
        shutil.copyfileobj(reader, handle, _BUFFER)


def append_line(path: Path | str, line: str) -> None:
    """Append one line to a text log and flush it to disk; a failed append leaves the log
    as it was, never with half a line at its end."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        # Locked, so the length noted before the write is still the log's end when a failed
        # append is cut back to it.
        fcntl.flock(fd, fcntl.LOCK_EX)
        before = os.fstat(fd).st_size
        try:
            _FdWriter(fd).write(data)
            os.fsync(fd)
        except BaseException:
            with suppress(OSError):  # the write's own error is the one to report
                os.ftruncate(fd, before)
                os.fsync(fd)
            raise
    finally:
        os.close(fd)
