"""Write and make the thumbnails the pages show."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from governance.files import free_bytes, is_storage_failure, storage_problem, write_bytes_atomic


class MediaWriteFailed(Exception):
    """The media root's volume refused a thumbnail: full, over quota or failing.

    Not one file's problem but the scan's, so it is raised past the per-file error handling.
    """

    def __init__(self, folder: str, free: int, needed: int, problem: str) -> None:
        super().__init__(folder, free, needed, problem)  # the args rebuild it across processes
        self.folder, self.free, self.needed, self.problem = folder, free, needed, problem

    def __str__(self) -> str:
        return f"media root {self.problem}: {self.free} bytes free at {self.folder}"


def write_thumbnail(display: Image.Image, thumbnail_dir: Path, pixel_hash: str, size: int) -> str:
    """Write a JPEG thumbnail once per pixel hash, atomically, and return its relative name.

    Raises MediaWriteFailed when the media root's volume cannot take it (full, over quota,
    failing): that stops the scan, where a bad file would only be noted.
    """
    name = f"{pixel_hash[:2]}/{pixel_hash}.jpg"
    target = thumbnail_dir / name
    if target.exists():
        return name
    buffer = io.BytesIO()
    thumbnail_of(display, size).save(buffer, "JPEG", quality=80)  # RGB or L: displayable
    data = buffer.getvalue()
    try:
        # Atomic: concurrent workers, and a disk that fills, never leave half a file there.
        write_bytes_atomic(target, data)
    except OSError as exc:
        if is_storage_failure(exc):
            raise MediaWriteFailed(
                str(thumbnail_dir), free_bytes(thumbnail_dir), len(data), storage_problem(exc)
            ) from exc
        raise
    return name


def thumbnail_of(display: Image.Image, size: int) -> Image.Image:
    """Return the picture scaled to fit a size x size square, never enlarged.

    Area averaging (Pillow's BOX filter, like OpenCV's INTER_AREA) is the cheapest
    antialiased reduction: from a 12 MP photograph's 1/8 decode, 40% of the time of
    Image.thumbnail's bicubic filter.
    """
    width, height = display.size
    scale = size / max(width, height)
    if scale >= 1:
        return display
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return display.resize(target, Image.Resampling.BOX)
