"""File work for quarantine and restore: hash, move with verification, append to the manifest.

Plain functions on paths (no Django), so the moves can be tested on their own.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from governance.files import append_line, free_bytes, is_storage_failure, storage_problem

MANIFEST_NAME = "manifest.jsonl"
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


def manifest_append(root: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line to the quarantine root's manifest and flush it to disk."""
    # Whole lines only: an append the disk cannot take leaves the manifest as it was.
    append_line(root / MANIFEST_NAME, json.dumps(entry, sort_keys=True, ensure_ascii=True))


def manifest_read(root: Path) -> list[dict[str, Any]]:
    """Return the manifest's entries, oldest first (empty when there is none)."""
    path = root / MANIFEST_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines() if line]


def remove_empty_parents(path: Path, stop: Path) -> None:
    """Remove the empty folders from path's parent up to (not including) stop."""
    folder = path.parent
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
