"""Where the scanner writes its own files (never inside a source)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def thumbnail_dir() -> Path:
    """Return the folder thumbnails are written to, under PROVENA_MEDIA_ROOT."""
    return settings.PROVENA_MEDIA_ROOT / "thumbnails"
