"""Walk a source tree read-only and list its image files with their size and mtime."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(slots=True)
class WalkResult:
    """What a walk found: files by relative path, per-entry errors, and what it could not see."""

    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unlisted_folders: list[str] = field(default_factory=list)  # prefixes we could not list
    skipped: int = 0  # not images, or symbolic links to real files


def printable_path(path: str) -> str:
    """Return a path whose undecodable bytes are shown as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_valid_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _symlink_problem(path: str) -> str | None:
    """Return why a symbolic link cannot be followed, or None when it points at something."""
    try:
        os.stat(path)
    except FileNotFoundError:
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"broken symbolic link (points to {printable_path(target)}, which does not exist)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link points back to itself through other links)"
        return f"symbolic link cannot be followed: {exc.strerror}"
    return None


def walk_tree(root: str, extensions: Iterable[str]) -> WalkResult:
    """List the image files under root without following symbolic links or writing anything."""
    wanted = {ext.lower() for ext in extensions}
    result = WalkResult()
    stack = [""]
    while stack:
        prefix = stack.pop()
        folder = os.path.join(root, prefix) if prefix else root
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as exc:
            if not prefix:
                raise
            result.unlisted_folders.append(prefix)
            result.errors.append(
                (printable_path(prefix), f"folder could not be listed: {exc.strerror}")
            )
            continue
        for entry in listed:
            rel = f"{prefix}/{entry.name}" if prefix else entry.name
            is_image = os.path.splitext(entry.name)[1].lower() in wanted
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not _is_valid_utf8(entry.name):
                        result.unlisted_folders.append(rel)
                        result.errors.append(
                            (
                                printable_path(rel),
                                "folder name is not valid UTF-8; rename it to scan its files",
                            )
                        )
                    else:
                        stack.append(rel)
                    continue
                if not is_image:
                    result.skipped += 1
                    continue
                if not _is_valid_utf8(entry.name):
                    result.errors.append(
                        (
                            printable_path(rel),
                            "file name is not valid UTF-8; rename it so it can be inventoried",
                        )
                    )
                    continue
                if entry.is_symlink():
                    problem = _symlink_problem(entry.path)
                    if problem:
                        result.errors.append((rel, problem))
                    else:
                        # The target is inventoried where it really lives; a link holds no bytes.
                        result.skipped += 1
                    continue
                if not entry.is_file(follow_symlinks=False):
                    result.errors.append((rel, "not a regular file (device, pipe or socket)"))
                    continue
                stat = entry.stat(follow_symlinks=False)
            except OSError as exc:
                result.errors.append((printable_path(rel), f"cannot be read: {exc.strerror}"))
                continue
            result.files[rel] = (stat.st_size, stat.st_mtime_ns)
    return result
