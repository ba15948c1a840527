"""Where a source's files live: one interface, one module per kind of storage.

Every place that reads or moves a source's files by path goes through a store
(`store_for(source)`), so that object storage (S3-compatible buckets, which archives use) is
a new module beside `local.py`, not a rewrite of the scanner, the fixity check, remediation
and privacy.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from inventory.storage.local import LocalStore
from inventory.storage.walk import WalkResult

if TYPE_CHECKING:
    import os

    from inventory.models import Source


class SourceStore(Protocol):
    """The operations Provena needs of a source's storage: reads, and the quarantine moves."""

    @property
    def location(self) -> str:
        """Return where the source lives, as people configured it (for messages)."""
        ...

    @property
    def local_root(self) -> Path:
        """Return the folder on this machine the examining processes read the files from."""
        ...

    def is_reachable(self) -> bool:
        """Return whether the storage answers at all (a share may not be mounted)."""
        ...

    def is_empty(self) -> bool:
        """Return whether the storage holds nothing (an unmounted share often looks so)."""
        ...

    def walk(self, extensions: Iterable[str]) -> WalkResult:
        """List every file with its size and mtime, without following links."""
        ...

    def local_path(self, path: str) -> Path:
        """Return the file at `path` (relative, `/`-separated) as a path on this machine."""
        ...

    def stat(self, path: str) -> os.stat_result:
        """Return the file's status without following a link."""
        ...

    def open(self, path: str) -> BinaryIO:
        """Open the file for reading bytes."""
        ...

    def exists(self, path: str) -> bool:
        """Return whether anything (a file, a folder, a link) sits at `path`."""
        ...

    def sha256(self, path: str) -> str:
        """Return the hex SHA-256 of the regular file at `path`, not following a link."""
        ...

    def move_problem(self, path: str) -> str | None:
        """Return why the file may not be moved out (absent, a link, outside the root), or None."""
        ...

    def move_to_quarantine(self, path: str, destination: Path, *, sha256: str) -> str:
        """Move the file out to `destination`, verified against `sha256`; return its hash there.

        Refuses (MoveRefused) a file move_problem objects to; the file stays on failure.
        """
        ...

    def move_from_quarantine(
        self, held: Path, path: str, *, sha256: str, mtime_ns: int | None = None
    ) -> str:
        """Move the quarantined file `held` back to `path`, verified; restore its mtime."""
        ...


def store_for(source: Source) -> SourceStore:
    """Return the store that holds the source's files (today always a local folder)."""
    return LocalStore(source.root)


__all__ = ["LocalStore", "SourceStore", "store_for"]
