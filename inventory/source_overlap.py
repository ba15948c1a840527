"""Which source roots nest in or enclose one another (pure: no Django).

A file belongs to the department of the source whose tree holds it. Two sources of different
departments whose trees overlap would each hold the other's files, so a department could read
another's through a source of its own; registering such a source is refused, and one left
from before that rule is shown to neither department (only to organisation-wide roles).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import PurePosixPath


def relation(root: str, other: str) -> str | None:
    """Return how root stands to other: "same", "inside", "encloses", or None (apart)."""
    a, b = PurePosixPath(root), PurePosixPath(other)
    if a == b:
        return "same"
    if a.is_relative_to(b):
        return "inside"
    if b.is_relative_to(a):
        return "encloses"
    return None


def ancestors(root: str) -> list[str]:
    """Return root and every folder above it, nearest first."""
    path = PurePosixPath(root)
    return [str(path), *(str(parent) for parent in path.parents)]


def contested_roots(rows: Iterable[tuple[int, str, Hashable]]) -> set[int]:
    """Return the ids of (id, root, department) rows whose tree overlaps another department's."""
    by_root: dict[str, list[tuple[int, Hashable]]] = {}
    rows = list(rows)
    for pk, root, department in rows:
        by_root.setdefault(str(PurePosixPath(root)), []).append((pk, department))
    found: set[int] = set()
    for pk, root, department in rows:
        # Every overlapping pair has one root at or above the other: looking upwards from
        # each root finds every pair once from its lower side.
        for above in ancestors(root):
            for other_pk, other_department in by_root.get(above, ()):
                if other_pk != pk and other_department != department:
                    found.update((pk, other_pk))
    return found
