"""Compare two registered pictures: colour, gain, block agreement, borders and detail."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import scipy.ndimage
from PIL import Image

from inventory.pairs.registration import SMOOTH, Box, Picture, Registration, fit_size

_LANCZOS = Image.Resampling.LANCZOS
_BOX = Image.Resampling.BOX
# The comparison works on about _FINE_AREA pixels of b (colour on _COLOUR_AREA), sharpness
# and local changes on the coarser picture's own grid, at most _DETAIL px long.
_FINE_AREA = 128 * 128
_COLOUR_AREA = 48 * 48
_DETAIL = 320
_MIN_OVERLAP_PX = 16
# Blocks: _BLOCKS_LONG along the long side of the overlap (16 px at _FINE_AREA).
_BLOCKS_LONG = 8
# A block is informative when either side's contrast (grey-level std) reaches this.
_INFORMATIVE_STD = 4.0
# A block matches when its zero-mean normalised correlation reaches _BLOCK_MATCH, or, when
# both sides are flat, their levels agree within _FLAT_LEVEL after the global gain/offset.
_BLOCK_MATCH = 0.80
_FLAT_LEVEL = 10.0
_RESIDUAL_FLOOR = 2.0  # levels added to the typical block residual (noise floor)
_RESIDUAL_OUTLIER = 2.2  # watermark blocks score 2.5-12, other edits' worst block 2.63...
# A block holds content (for coverage) when its contrast reaches this: a plain backdrop, its
# light fall-off and sensor noise stay below it.
_TEXTURED_STD = 2.0
# Labelling.
FULL = 0.97  # overlap share of a picture that counts as "all of it"
_PLAIN_LEVEL = 12.0  # a border's pixels lie within this many levels of its median...
_PLAIN_SHARE = 0.9  # ...this share of them,
_BORDER_STEP = 12.0  # ...and it differs from the picture's edge by this many levels
_FLAT_BORDER_STD = 2.0  # ...or it is flat to JPEG noise (a border the edge's colour)


def to_rgb(im: Image.Image) -> Image.Image:
    """Return the image as RGB (grayscale pictures too, so colour statistics are uniform)."""
    return im if im.mode == "RGB" else im.convert("RGB")


@dataclass(slots=True)
class Comparison:
    """What the aligned pictures share and how they differ."""

    a_size: tuple[int, int]  # the small images' sizes (a after the transform)
    b_size: tuple[int, int]
    share_a: float  # of a' inside the overlap
    share_b: float  # of b inside the overlap
    frame: Box  # b's frame in a' (fractions; beyond 0..1 where b shows more)
    a_border: bool | None  # a' outside the overlap is an added border (None: nothing outside)
    b_border: bool | None  # the same for b
    blocks: int
    informative: int
    coverage: float  # share of blocks with content (textured, not clipped)
    agree: float  # share of informative blocks that match (flat ones prove nothing)
    matched: float
    median: float
    global_ncc: float
    failed: int
    failed_box: Box | None  # bounding box (fractions of the overlap) of failing blocks
    outside: int  # informative blocks outside that box
    outside_median: float  # their median correlation
    clipped_a: float  # share of a' pixels at black or white in the overlap
    clipped_b: float
    gain: float  # luma b ~ gain * luma a + offset
    offset: float
    chroma_a: float
    chroma_b: float
    saturation: float  # b's chroma ~ saturation * a's chroma + cast
    cast: float  # largest per-channel shift of chroma (levels)
    detail: float  # b's fine detail / a's (median over blocks, tone change removed)
    outliers: int  # blocks whose residual stands out (a local change)
    outlier_box: Box | None  # their bounding box (fractions of the overlap)
    outlier_detail: float  # b's detail / a's there: > 1 when b gained strokes
    overlay: float  # how one-signed the residual is there (1: a stamp blended over it)
    residual_top: list[float]  # the largest block residual scores, for the evidence


def compare(
    a: Picture, b: Picture, a_rgb: Image.Image, b_rgb: Image.Image, reg: Registration
) -> Comparison | None:
    """Resample a' onto b's grid where they overlap and compare them (None: no overlap)."""
    wa, ha = a.size
    wb, hb = b.size
    fw, fh = fit_size((wb, hb), _FINE_AREA)
    kx, ky = fw / wb, fh / hb
    s, tx, ty = reg.scale, reg.tx, reg.ty
    # b's fine pixel edge X lies at a' x = s * X / kx + tx; keep whole pixels inside a'.
    x0 = max(0, math.ceil(-tx * kx / s - 1e-6))
    x1 = min(fw, math.floor((wa - tx) * kx / s + 1e-6))
    y0 = max(0, math.ceil(-ty * ky / s - 1e-6))
    y1 = min(fh, math.floor((ha - ty) * ky / s + 1e-6))
    if x1 - x0 < _MIN_OVERLAP_PX or y1 - y0 < _MIN_OVERLAP_PX:
        return None
    box_a = (
        min(max(s * x0 / kx + tx, 0.0), wa),
        min(max(s * y0 / ky + ty, 0.0), ha),
        min(max(s * x1 / kx + tx, 0.0), wa),
        min(max(s * y1 / ky + ty, 0.0), ha),
    )
    box_b = (x0 / kx, y0 / ky, min(x1 / kx, wb), min(y1 / ky, hb))
    size = (x1 - x0, y1 - y0)
    la = np.asarray(a.image.resize(size, _LANCZOS, box=box_a, reducing_gap=2.0), np.float32)
    b_whole = b.at((fw, fh))
    lb = b_whole[y0:y1, x0:x1]
    sa = scipy.ndimage.gaussian_filter(la, SMOOTH)
    sb = scipy.ndimage.gaussian_filter(lb, SMOOTH)
    gain, offset = _gain(sa, sb)
    blocks = _blocks(sa, sb, gain, offset)
    grid = blocks.pop("grid")
    fine = _detail(a.image, b.image, box_a, box_b, grid, gain, offset)
    # Shares of each picture inside the overlap, from the continuous frame (the pixel
    # rectangles above are rounded inwards).
    frame = (tx / wa, ty / ha, (s * wb + tx) / wa, (s * hb + ty) / ha)
    inter = max(0.0, min(frame[2], 1.0) - max(frame[0], 0.0)) * max(
        0.0, min(frame[3], 1.0) - max(frame[1], 0.0)
    )
    area_a = inter
    area_b = inter / max(box_area(frame), 1e-9)
    a_border = None
    if area_a < FULL:
        small = fit_size((wa, ha), _FINE_AREA)
        kax, kay = small[0] / wa, small[1] / ha
        a_box = (
            round(box_a[0] * kax),
            round(box_a[1] * kay),
            round(box_a[2] * kax),
            round(box_a[3] * kay),
        )
        a_border = _border(a.at(small), a_box)
    b_border = _border(b_whole, (x0, y0, x1, y1)) if area_b < FULL else None
    # Colour is a global property: a small grid is enough.
    csize = fit_size(size, _COLOUR_AREA)
    ca = np.asarray(a_rgb.resize(csize, _BOX, box=box_a), np.float32)
    cb = np.asarray(b_rgb.resize(csize, _BOX, box=box_b), np.float32)
    return Comparison(
        a_size=a.size,
        b_size=b.size,
        share_a=area_a,
        share_b=area_b,
        frame=frame,
        a_border=a_border,
        b_border=b_border,
        clipped_a=float(((la <= 2) | (la >= 253)).mean()),
        clipped_b=float(((lb <= 2) | (lb >= 253)).mean()),
        gain=gain,
        offset=offset,
        **_colour(ca, cb),
        **fine,
        **blocks,
    )


def _luma(rgb: np.ndarray) -> np.ndarray:
    """Return ITU-R 601 luma, as Pillow's convert("L") computes it."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


class _Colour(TypedDict):
    """The colour fields of a Comparison."""

    chroma_a: float
    chroma_b: float
    saturation: float
    cast: float


def _colour(a: np.ndarray, b: np.ndarray) -> _Colour:
    """Return mean chroma of a and b, b's saturation relative to a's, and the colour cast."""
    ca = a - _luma(a)[..., None]
    cb = b - _luma(b)[..., None]
    energy = float((ca**2).sum())
    saturation = float((ca * cb).sum() / energy) if energy > 1e-6 * ca.size else 1.0
    return {
        "chroma_a": float(np.sqrt((ca**2).sum(axis=2)).mean()),
        "chroma_b": float(np.sqrt((cb**2).sum(axis=2)).mean()),
        "saturation": saturation,
        "cast": float(np.abs((cb - saturation * ca).mean(axis=(0, 1))).max()),
    }


def _gain(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return the gain and offset of b ~ gain * a + offset, ignoring clipped levels."""
    keep = (b > 3) & (b < 252) & (a > 3) & (a < 252)
    if keep.sum() < 0.2 * a.size:
        keep = np.ones_like(a, dtype=bool)
    va, vb = a[keep], b[keep]
    sd_a = float(va.std())
    if sd_a < 1e-3:
        return 1.0, float(vb.mean() - va.mean())
    gain = float(vb.std() / sd_a) * (1.0 if np.corrcoef(va, vb)[0, 1] >= 0 else -1.0)
    return gain, float(vb.mean() - gain * va.mean())


def _blocks(a: np.ndarray, b: np.ndarray, gain: float, offset: float) -> dict[str, Any]:
    """Compare the aligned pictures block by block."""
    h, w = a.shape
    if w >= h:
        nx, ny = _BLOCKS_LONG, max(2, round(_BLOCKS_LONG * h / w))
    else:
        ny, nx = _BLOCKS_LONG, max(2, round(_BLOCKS_LONG * w / h))
    ca, cb = _split(a, nx, ny), _split(b, nx, ny)
    ma, mb = ca.mean(axis=2), cb.mean(axis=2)
    da, db = ca - ma[..., None], cb - mb[..., None]
    sda, sdb = np.sqrt((da * da).mean(axis=2)), np.sqrt((db * db).mean(axis=2))
    corr = (da * db).mean(axis=2) / np.maximum(sda * sdb, 1e-6)
    # Clipped blocks (a brightened sky, a black surround) lose their texture honestly.
    clipped = _split((a <= 4) | (a >= 251) | (b <= 4) | (b >= 251), nx, ny).mean(axis=2) >= 0.25
    informative = (np.maximum(sda * abs(gain), sdb) >= _INFORMATIVE_STD) & ~clipped
    flat_ok = ~informative & ((np.abs(mb - (gain * ma + offset)) <= _FLAT_LEVEL) | clipped)
    match = (informative & (corr >= _BLOCK_MATCH)) | flat_ok
    n_inf = int(informative.sum())
    # Content, even faint (a low-contrast moon), as against a plain backdrop or a clipped one.
    textured = (np.maximum(sda * abs(gain), sdb) >= _TEXTURED_STD) & ~clipped
    fail = ~match
    failed_box = None
    outside = informative.copy()
    if fail.any():
        ys, xs = np.nonzero(fail)
        failed_box = (xs.min() / nx, ys.min() / ny, (xs.max() + 1) / nx, (ys.max() + 1) / ny)
        outside[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = False
    global_ncc = float(np.corrcoef(a.ravel(), b.ravel())[0, 1]) if a.std() > 0 else 0.0
    return {
        "blocks": int(match.size),
        "informative": n_inf,
        "coverage": float(textured.mean()),
        "matched": float(match.mean()),
        "agree": float((corr[informative] >= _BLOCK_MATCH).mean()) if n_inf else 0.0,
        "median": float(np.median(corr[informative])) if n_inf else 0.0,
        "global_ncc": global_ncc if math.isfinite(global_ncc) else 0.0,
        "failed": int(fail.sum()),
        "failed_box": failed_box,
        # Informative blocks outside the failing region, and how well they agree there.
        "outside": int(outside.sum()),
        "outside_median": float(np.median(corr[outside])) if outside.any() else 0.0,
        "grid": (nx, ny),
    }


def _split(x: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """Return x cut into ny-by-nx blocks, each flattened (remainders dropped)."""
    bh, bw = x.shape[0] // ny, x.shape[1] // nx
    return x[: bh * ny, : bw * nx].reshape(ny, bh, nx, bw).transpose(0, 2, 1, 3).reshape(ny, nx, -1)


def _border(gray: np.ndarray, box: tuple[int, int, int, int]) -> bool | None:
    """Return whether a picture's part outside a box is an added border, None if no part.

    A border is plain (its pixels near one level) and either perfectly flat or set off
    from the picture by a step; plain background that continues into the picture was cut.
    """
    x0, y0, x1, y1 = box
    h, w = gray.shape
    inner = np.zeros(gray.shape, dtype=bool)
    inner[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = True  # resampling smears edges
    outside = ~inner
    if outside.sum() < 0.02 * gray.size:
        return None
    values = gray[outside]
    level = float(np.median(values))
    if (np.abs(values - level) <= _PLAIN_LEVEL).mean() < _PLAIN_SHARE:
        return False
    # The picture's own edge: a ring just inside the box, on the sides that have a margin.
    ring = np.zeros(gray.shape, dtype=bool)
    depth = 3
    if y0 > 2:
        ring[y0 + 2 : y0 + 2 + depth, x0:x1] = True
    if y1 < h - 2:
        ring[y1 - 2 - depth : y1 - 2, x0:x1] = True
    if x0 > 2:
        ring[y0:y1, x0 + 2 : x0 + 2 + depth] = True
    if x1 < w - 2:
        ring[y0:y1, x1 - 2 - depth : x1 - 2] = True
    step = abs(float(np.median(gray[ring])) - level) if ring.any() else 0.0
    return step >= _BORDER_STEP or float(values.std()) <= _FLAT_BORDER_STD


def _detail(
    a: Image.Image,
    b: Image.Image,
    box_a: Box,
    box_b: Box,
    grid: tuple[int, int],
    gain: float,
    offset: float,
) -> dict[str, Any]:
    """Compare fine detail and look for local changes on the grid of the coarser picture.

    A smaller copy is not a blurred one, so both are compared at the smaller one's
    resolution. Per block: the detail energy ratio (blur), and the residual after the global
    tone fit against the typical block's (a watermark or retouch stands out there).
    """
    native_a = max(box_a[2] - box_a[0], box_a[3] - box_a[1])
    native_b = max(box_b[2] - box_b[0], box_b[3] - box_b[1])
    side = min(native_a, native_b, _DETAIL)
    width, height = box_b[2] - box_b[0], box_b[3] - box_b[1]
    k = side / max(width, height)
    size = (max(16, round(width * k)), max(16, round(height * k)))
    ga = np.asarray(a.resize(size, _LANCZOS, box=box_a), dtype=np.float32)
    gb = np.asarray(b.resize(size, _LANCZOS, box=box_b), dtype=np.float32)
    ha = ga - scipy.ndimage.gaussian_filter(ga, 1.0)
    hb = gb - scipy.ndimage.gaussian_filter(gb, 1.0)
    g2 = gain * gain
    ea = _split(ha**2, *grid).mean(axis=2) * g2
    eb = _split(hb**2, *grid).mean(axis=2)
    clipped = _split(((ga <= 4) | (ga >= 251) | (gb <= 4) | (gb >= 251)), *grid).mean(axis=2)
    usable = clipped < 0.25
    ratio = (eb + 0.5) / (ea + 0.5)
    # Blur shows where there is detail to lose: the more detailed half of the blocks.
    energy = np.maximum(ea, eb)
    # (With no usable block, e.g. a picture clipped to black or white, none is textured.)
    textured = usable & (energy >= np.median(energy[usable])) if usable.any() else usable
    detail = float(np.median(ratio[textured])) if textured.any() else float(np.median(ratio))
    residual = gb - (gain * ga + offset)
    rms = np.sqrt(_split(residual**2, *grid).mean(axis=2))
    typical = float(np.median(rms[usable])) if usable.any() else float(np.median(rms))
    score = np.where(usable, rms / (typical + _RESIDUAL_FLOOR), 0.0)
    outliers = score >= _RESIDUAL_OUTLIER
    result: dict[str, Any] = {
        "detail": detail,
        "outliers": int(outliers.sum()),
        "outlier_box": None,
        "outlier_detail": 1.0,
        "overlay": 0.0,
        "residual_top": [round(float(v), 2) for v in np.sort(score.ravel())[::-1][:4]],
    }
    if outliers.any():
        nx, ny = grid
        ys, xs = np.nonzero(outliers)
        result["outlier_box"] = (
            xs.min() / nx,
            ys.min() / ny,
            (xs.max() + 1) / nx,
            (ys.max() + 1) / ny,
        )
        result["outlier_detail"] = float((eb[outliers].mean() + 0.5) / (ea[outliers].mean() + 0.5))
        # An overlay (a stamp blended over the picture) shifts its pixels one way: the
        # residual there is one-signed, where a retouch or a lost edge is not.
        strong = _split(residual, *grid)[outliers].ravel()
        strong = strong[np.abs(strong) > 2.0 * (typical + _RESIDUAL_FLOOR)]
        if strong.size >= 16:
            result["overlay"] = float(abs(strong.mean()) / np.sqrt((strong**2).mean()))
    return result


def box_area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])
