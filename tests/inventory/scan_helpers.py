"""Helpers for scan tests: run scans and read the inventory back as plain data."""

from __future__ import annotations

from pathlib import Path

from inventory.models import Copy, Scan, Source
from inventory.services.scan import scan_run
from inventory.services.sources import source_register


def scan_folder(root: Path, *, name: str | None = None, **kwargs) -> Scan:
    """Register root (if new) and scan it in-process."""
    source = source_register(root=root, name=name, department_code=kwargs.pop("department", None))
    return scan_run(source=source, workers=kwargs.pop("workers", 1), **kwargs)


def inventory_snapshot() -> set[tuple]:
    """Return the inventory as comparable rows, leaving out ids and times."""
    return {
        (
            c.source.name,
            c.path,
            c.size,
            c.sha256,
            c.state,
            c.problem,
            c.rendition.pixel_hash if c.rendition else None,
        )
        for c in Copy.objects.select_related("source", "rendition")
    }


def source_named(name: str) -> Source:
    return Source.objects.get(name=name)
