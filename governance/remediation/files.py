"""The quarantine manifest and tidying: one JSON line per move, empty folders removed.

The moves themselves belong to the source's store (inventory/storage/moves.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance.files import append_line

MANIFEST_NAME = "manifest.jsonl"


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
