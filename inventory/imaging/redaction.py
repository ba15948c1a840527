"""Blur faces in an image (no Django): redactions, response packs and masked thumbnails."""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image, ImageFilter

# A face box grows by this fraction on each side so hair, ears and jaw are covered too.
MARGIN = 0.25


def _grown(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    left, top, width, height = box
    dx, dy = round(width * MARGIN), round(height * MARGIN)
    return (
        max(0, left - dx),
        max(0, top - dy),
        min(size[0], left + width + dx),
        min(size[1], top + height + dy),
    )


def blur_faces(
    image: Image.Image, boxes: Iterable[tuple[int, int, int, int]], *, scale: float = 1.0
) -> Image.Image:
    """Return a copy with each (left, top, width, height) box pixelated beyond recognition.

    Boxes are in original pixels; ``scale`` maps them onto this image (image px per original
    px). Pixelation to 8 blocks across, then a blur, leaves nothing a face matcher can use.
    """
    out = image.convert("RGB").copy()
    for left, top, width, height in boxes:
        box = _grown(
            (round(left * scale), round(top * scale), round(width * scale), round(height * scale)),
            out.size,
        )
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            continue
        region = out.crop(box)
        small = region.resize((min(8, region.width), min(8, region.height)), Image.Resampling.BOX)
        coarse = small.resize(region.size, Image.Resampling.NEAREST)
        out.paste(coarse.filter(ImageFilter.GaussianBlur(max(2, region.width // 16))), box)
    return out


def blur_whole(image: Image.Image) -> Image.Image:
    """Return a copy pixelated all over: for a picture whose faces cannot all be placed."""
    out = image.convert("RGB")
    blocks = (max(1, min(12, out.width // 8)), max(1, min(12, out.height // 8)))
    coarse = out.resize(blocks, Image.Resampling.BOX).resize(out.size, Image.Resampling.NEAREST)
    return coarse.filter(ImageFilter.GaussianBlur(max(2, out.width // 24)))
