"""Real photographs and the copies archives make of them, for lineage tests and bench/graph.py.

Pure (no Django). Each edit is made from the original and names the relation Provena should
report against its parent (the original). Byte copies and EXIF-only edits are files of the
original's rendition: `exact_copy` and `same_pixels`, tier certain. File times follow the
story: the original is the oldest file, every copy was written later.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import piexif
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

PHOTOS_DIR = Path(__file__).resolve().parent.parent / "samples" / "photos"
# Photographs of samples/photos (scikit-image's data and NASA images, see its LICENSES.md).
PHOTOS = (
    "astronaut", "camera", "chelsea", "coffee", "coins", "grace_hopper", "hubble_deep_field",
    "retina", "rocket",
)  # fmt: skip
# More scikit-image photographs (its bundled data, saved as JPEG quality 90).
SKIMAGE_PHOTOS = (
    "immunohistochemistry", "moon", "cell", "page", "text", "clock_motion", "motorcycle_left",
)  # fmt: skip
ORIGINAL_TIME = datetime(2019, 6, 1, 9, 0, tzinfo=UTC)
COPIES_TIME = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

Make = Callable[[Path, Image.Image, Path], Path]


@dataclass(frozen=True, slots=True)
class Edit:
    """One kind of copy: its name, the relation to its parent, and how it is made."""

    name: str
    relation: str
    make: Make
    colour_only: bool = False  # meaningless for a gray photograph


def _jpeg(im: Image.Image, dest: Path, quality: int = 90) -> Path:
    path = dest.with_suffix(".jpg")
    im.save(path, quality=quality)
    return path


def _byte_copy(src: Path, im: Image.Image, dest: Path) -> Path:
    path = dest.with_suffix(src.suffix)
    shutil.copyfile(src, path)
    return path


def _exif_edit(src: Path, im: Image.Image, dest: Path) -> Path:
    """Rewrite the caption and artist only: other bytes, the same pixels."""
    path = dest.with_suffix(".jpg")
    try:
        exif = piexif.load(str(src))
    except Exception:  # noqa: BLE001 - no EXIF at all: start one
        exif = {"0th": {}, "Exif": {}, "GPS": {}, "1st": {}, "thumbnail": None}
    exif["0th"][piexif.ImageIFD.ImageDescription] = b"Caption corrected by the archive desk"
    exif["0th"][piexif.ImageIFD.Artist] = b"Archive desk"
    exif.pop("thumbnail", None)
    exif["1st"] = {}
    piexif.insert(piexif.dump(exif), str(src), str(path))
    return path


def _save(suffix: str, **options: Any) -> Make:
    def make(src: Path, im: Image.Image, dest: Path) -> Path:
        path = dest.with_suffix(suffix)
        im.save(path, **options)
        return path

    return make


def _scaled(factor: float) -> Make:
    def make(src: Path, im: Image.Image, dest: Path) -> Path:
        size = (round(im.width * factor), round(im.height * factor))
        resample = Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.LANCZOS
        return _jpeg(im.resize(size, resample), dest)

    return make


def _crop(fraction: float) -> Make:
    def make(src: Path, im: Image.Image, dest: Path) -> Path:
        w, h = im.size
        dx, dy = round(w * fraction), round(h * fraction)
        return _jpeg(im.crop((dx, dy, w - dx, h - dy)), dest)

    return make


def _colour(src: Path, im: Image.Image, dest: Path) -> Path:
    """Raise saturation and warm the white balance, as a colour correction would."""
    rgb = np.asarray(ImageEnhance.Color(im).enhance(1.35), dtype=np.float32)
    rgb = rgb * np.array([1.08, 1.0, 0.90], dtype=np.float32)
    return _jpeg(Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)), dest)


def _watermark(src: Path, im: Image.Image, dest: Path) -> Path:
    """Stamp a semi-transparent copyright line in the lower right, as agencies do."""
    base = im.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(12, base.height // 11))
    text = "© PROVENA ARCHIVE"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    x = base.width - (right - left) - base.width // 30
    y = base.height - (bottom - top) - base.height // 12
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 150), stroke_width=2,
              stroke_fill=(0, 0, 0, 110))  # fmt: skip
    out = Image.alpha_composite(base, layer).convert(im.mode if im.mode == "L" else "RGB")
    return _jpeg(out, dest)


def _border(src: Path, im: Image.Image, dest: Path) -> Path:
    """Add a white mount around the picture: more pixels, no more resolution."""
    w, h = im.size
    fill = 255 if im.mode == "L" else (255, 255, 255)
    return _jpeg(ImageOps.expand(im, border=(round(w * 0.1), round(h * 0.1)), fill=fill), dest)


def _turned(transpose: Image.Transpose) -> Make:
    return lambda src, im, dest: _jpeg(im.transpose(transpose), dest)


EDITS: tuple[Edit, ...] = (
    Edit("byte_copy", "exact_copy", _byte_copy),
    Edit("exif_edit", "same_pixels", _exif_edit),
    Edit("jpeg_q40", "reencoded", lambda src, im, dest: _jpeg(im, dest, 40)),
    Edit("png", "format_converted", _save(".png")),
    Edit("tiff", "format_converted", _save(".tif", compression="tiff_lzw")),
    Edit("webp", "format_converted", _save(".webp", quality=80)),
    Edit("resize_50", "resized", _scaled(0.5)),
    Edit("upscale_150", "resized", _scaled(1.5)),
    Edit("crop_10", "cropped", _crop(0.10)),
    Edit("brightness", "colour_adjusted",
         lambda src, im, dest: _jpeg(ImageEnhance.Brightness(im).enhance(1.3), dest)),
    Edit("colour", "colour_adjusted", _colour, colour_only=True),
    Edit("grayscale", "grayscale", lambda src, im, dest: _jpeg(im.convert("L"), dest),
         colour_only=True),
    Edit("blur", "blurred",
         lambda src, im, dest: _jpeg(im.filter(ImageFilter.GaussianBlur(2)), dest)),
    Edit("watermark", "watermarked", _watermark),
    Edit("border", "bordered", _border),
    Edit("rotate_90", "rotated", _turned(Image.Transpose.ROTATE_270)),
    Edit("mirror", "mirrored", _turned(Image.Transpose.FLIP_LEFT_RIGHT)),
)  # fmt: skip
EDIT_BY_NAME = {edit.name: edit for edit in EDITS}


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """One file written: its path relative to the corpus root, photograph and edit."""

    path: str
    photo: str
    edit: str  # "original" or an edit name
    relation: str  # what Provena should call it against its parent ("master": the original)


def _set_mtime(path: Path, when: datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def _write_original(photo: str, path: Path) -> None:
    """Copy a photograph of samples/photos byte for byte, or save a scikit-image one."""
    if (PHOTOS_DIR / f"{photo}.jpg").exists():
        shutil.copyfile(PHOTOS_DIR / f"{photo}.jpg", path)
        return
    from skimage import data as skdata  # only for the photographs samples/ does not hold

    if photo == "motorcycle_left":
        pixels = skdata.stereo_motorcycle()[0]
    elif photo == "clock_motion":  # bundled without a loader function
        with Image.open(Path(skdata.__file__).parent / "clock_motion.png") as im:
            pixels = np.asarray(im.convert("L"))
    else:
        pixels = getattr(skdata, photo)()
    Image.fromarray(pixels).save(path, quality=90)


def build_photo_corpus(
    dest: Path, *, photos: tuple[str, ...] = PHOTOS, edits: tuple[Edit, ...] = EDITS
) -> list[CorpusFile]:
    """Write each photograph and its edited copies under dest/<photo>/."""
    files = []
    for photo in photos:
        folder = dest / photo
        folder.mkdir(parents=True, exist_ok=True)
        original = folder / "original.jpg"
        _write_original(photo, original)
        files.append(CorpusFile(f"{photo}/original.jpg", photo, "original", "master"))
        with Image.open(original) as im:
            picture = im.copy()
        for edit in edits:
            if edit.colour_only and picture.mode != "RGB":
                continue
            path = edit.make(original, picture, folder / edit.name)
            _set_mtime(path, COPIES_TIME)
            files.append(
                CorpusFile(path.relative_to(dest).as_posix(), photo, edit.name, edit.relation)
            )
        _set_mtime(original, ORIGINAL_TIME)
    return files
