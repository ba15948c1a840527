"""Move a file between a source and the quarantine: hashed, verified, never half-done.

Plain functions on paths (no Django), so the moves can be tested on their own. Only a
store (`LocalStore`) calls them on a source's files, so every path into a source is joined
and checked in one place.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path

from governance.files import free_bytes, is_storage_failure, storage_problem

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)


class MoveRefused(RuntimeError):
    """A file that may not be moved, or a move that did not verify, with the reason."""


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a regular file, read without following a symbolic link."""
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MoveRefused(f"{path} is not a regular file")
        return hashlib.file_digest(fh, "sha256").hexdigest()


def regular_file_problem(path: Path, root: Path) -> str | None:
    """Return why the file may not be moved (absent, a link, outside its root), or None."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return f"no file at {path}"
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    if stat.S_ISLNK(mode):
        return f"{path} is a symbolic link, not the file the decision was about"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file"
    # A folder on the way replaced by a link could lead out of the source.
    if not Path(os.path.realpath(path.parent)).is_relative_to(Path(os.path.realpath(root))):
        return f"{path} lies outside {root} once links are followed"
    return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_verified(src: Path, dest: Path, *, sha256: str) -> str:
    """Move src to dest (a rename, or copy, check and delete across file systems) and return
    the SHA-256 of dest, which must equal sha256; the source is left in place on failure."""
    if os.path.lexists(dest):
        raise MoveRefused(f"{dest} already exists; nothing was moved")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.rename(dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        part = dest.with_name(dest.name + ".part")
        try:
            shutil.copy2(src, part, follow_symlinks=False)
            with part.open("rb") as fh:
                os.fsync(fh.fileno())
            verified = file_sha256(part) == sha256
        except OSError as copy_exc:
            part.unlink(missing_ok=True)
            if not is_storage_failure(copy_exc):
                raise
            raise MoveRefused(
                f"the quarantine folder {dest.parent} is {storage_problem(copy_exc)} "
                f"({free_bytes(dest.parent):,} bytes free, the file needs "
                f"{src.stat().st_size:,}); {src} was kept where it was"
            ) from copy_exc
        if not verified:
            part.unlink()
            raise MoveRefused(f"the copy at {dest} did not verify; {src} was kept") from exc
        part.replace(dest)
        src.unlink()
    _fsync_dir(dest.parent)
    after = file_sha256(dest)
    if after != sha256:
        # Not reachable with a rename; put the bytes back rather than leave them half-moved.
        dest.rename(src)
        raise MoveRefused(f"{dest} hashes to {after}, not {sha256}; the file was put back")
    return after
