"""Verify a candidate pair of renditions on their small images; say how one derives from the other.

Pure: no Django. The caller passes the two renditions' small images (the scanner's 320 px
thumbnails), what the scanner recorded about each file, and the index hint that produced the
pair. The hint only steers the registration (inventory.pairs.registration); every verdict rests on
the comparison made here. Thresholds were calibrated on the accuracy corpus
(bench/accuracy.py); docs/matching.md says how.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import scipy.ndimage
from PIL import Image

from inventory.imaging.fingerprints import DIHEDRAL
from inventory.pairs.registration import SMOOTH, Box, Picture, Registration, fit_size, register

RELATIONS = (
    "resized",
    "reencoded",
    "format_converted",
    "cropped",
    "rotated",
    "mirrored",
    "colour_adjusted",
    "grayscale",
    "watermarked",
    "bordered",
    "blurred",
    "edited",
    "similar",
)

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

# Decision thresholds, set in the gaps between the statistics of the accuracy corpus's edits
# on half A of its photographs and checked on half B, a variant and a fresh corpus
# (docs/matching.md section 3). Copies there: median block correlation 0.987 and up, every
# informative block matching bar watermarks; the stereo pair at its closest: 0.94, 73%.
_PROBABLE_MATCHED = 0.85  # share of blocks that match
_PROBABLE_MEDIAN = 0.95  # median correlation of informative blocks
_PROBABLE_GLOBAL = 0.90  # correlation over the whole overlap
# A local edit (watermark, retouch): a few blocks fail, together, and the rest agree closely.
_LOCAL_MIN_OUTLIERS = 2  # a text line spans blocks; one odd block is noise or a lost edge
_LOCAL_EDIT_MEDIAN = 0.97
_LOCAL_MAX_AREA = 0.35
_RESIDUAL_FLOOR = 2.0  # levels added to the typical block residual (noise floor)
_RESIDUAL_OUTLIER = 2.2  # watermark blocks score 2.5-12, other edits' worst block 2.63...
_WATERMARK_DETAIL = 2.0  # ...where one has this much more detail (watermarks 3.6 and up)
_OVERLAY = 0.6  # ...or where the difference is one-signed: a stamp blended over the picture
_EDIT_RESIDUAL = 4.0  # ...or a residual this high, without added detail: another edit
# Similar enough to show a person: much of the structure agrees, not enough to verify.
_POSSIBLE_MEDIAN = 0.6
_POSSIBLE_AGREE = 0.35
# Fewer informative blocks than this: too little structure to verify anything.
_MIN_INFORMATIVE = 4

# Labelling.
_FULL = 0.97  # overlap share of a picture that counts as "all of it"
_CROPPED = 0.93  # overlap share below which the rest was cut away
_PLAIN_LEVEL = 12.0  # a border's pixels lie within this many levels of its median...
_PLAIN_SHARE = 0.9  # ...this share of them,
_BORDER_STEP = 12.0  # ...and it differs from the picture's edge by this many levels
_FLAT_BORDER_STD = 2.0  # ...or it is flat to JPEG noise (a border the edge's colour)
_GRAY_CHROMA = 0.75  # mean chroma (levels) of a picture with no colour (rounding only)
_COLOUR_CHROMA = 2.5  # ... and of one with colour (a dim star field has about 3)
_GRAY_MODES = frozenset({"L", "LA", "1", "I", "I;16", "F"})
# Saturation is judged only on pictures this colourful: small coloured specks (a star
# field) lose chroma to any resize or compression.
_SATURATED_CHROMA = 8.0
_GAIN = 0.08  # change of contrast that counts as a tonal adjustment
_OFFSET = 10.0  # change of mid-gray level (levels) that does
_SATURATION = 0.12  # change of colourfulness that does
_CAST = 1.5  # colour shift (levels) that does: corrections 2.0-10.5, other edits at most 1.0
_CLIPPED_MORE = 0.01  # more of the picture clipped to black or white: the adjusted copy
_BLUR_RATIO = 0.55  # detail ratio of blurred copies 0.01-0.33; every other edit 0.80 and up
_SAME_SIZE = 0.03  # log-ratio of resolution (file pixels per content) that is a resize


@dataclass(frozen=True, slots=True)
class RenditionInfo:
    """What the scanner recorded about a rendition's file, for direction and labels."""

    width: int
    height: int
    format: str
    mode: str
    file_size: int
    capture_time: str | None = None
    metadata_fields: int = 0
    orientation: int = 1


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether two renditions show the same photograph, how, and which one came first."""

    tier: str | None  # "probable", "possible" or None (not the same photograph)
    relation: str | None  # one of RELATIONS, None when tier is None
    score: float  # 0..1
    original: str | None  # "a", "b" or None when the evidence does not tell
    evidence: dict[str, Any] = field(default_factory=dict)


def verify_pair(
    a: Image.Image,
    b: Image.Image,
    *,
    a_info: RenditionInfo,
    b_info: RenditionInfo,
    hint: str | None = None,
) -> Verdict:
    """Register b onto a, compare them block by block and return the verdict.

    a and b are the renditions' small images (the scanner's thumbnails), oriented; hint is
    the index's "<code on a>><code on b>" that made them a candidate, or None.
    """
    a_rgb, b_rgb = _rgb(a), _rgb(b)
    found = register(a_rgb.convert("L"), b_rgb.convert("L"), hint)
    if found is None:
        return Verdict(None, None, 0.0, None, {"hint": hint, "reason": "no registration"})
    reg, a_pic, b_pic = found
    a_t = a_rgb.transpose(DIHEDRAL[reg.code]) if reg.code != "id" else a_rgb
    comparison = _compare(a_pic, b_pic, a_t, b_rgb, reg)
    if comparison is None:
        return Verdict(None, None, 0.0, None, {"hint": hint, "reason": "overlap too small"})
    return _decide(reg, comparison, a_info, b_info, hint)


def _rgb(im: Image.Image) -> Image.Image:
    """Return the image as RGB (grayscale pictures too, so colour statistics are uniform)."""
    return im if im.mode == "RGB" else im.convert("RGB")


@dataclass(slots=True)
class _Comparison:
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


def _compare(
    a: Picture, b: Picture, a_rgb: Image.Image, b_rgb: Image.Image, reg: Registration
) -> _Comparison | None:
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
    area_b = inter / max(_box_area(frame), 1e-9)
    a_border = None
    if area_a < _FULL:
        small = fit_size((wa, ha), _FINE_AREA)
        kax, kay = small[0] / wa, small[1] / ha
        a_box = (
            round(box_a[0] * kax),
            round(box_a[1] * kay),
            round(box_a[2] * kax),
            round(box_a[3] * kay),
        )
        a_border = _border(a.at(small), a_box)
    b_border = _border(b_whole, (x0, y0, x1, y1)) if area_b < _FULL else None
    # Colour is a global property: a small grid is enough.
    csize = fit_size(size, _COLOUR_AREA)
    ca = np.asarray(a_rgb.resize(csize, _BOX, box=box_a), np.float32)
    cb = np.asarray(b_rgb.resize(csize, _BOX, box=box_b), np.float32)
    return _Comparison(
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


def _decide(
    reg: Registration,
    c: _Comparison,
    a_info: RenditionInfo,
    b_info: RenditionInfo,
    hint: str | None,
) -> Verdict:
    """Turn the registration and comparison into tier, relation, score and direction."""
    enough_blocks = c.informative >= _MIN_INFORMATIVE
    whole = (
        enough_blocks
        and c.agree >= _PROBABLE_MATCHED
        and c.matched >= _PROBABLE_MATCHED
        and c.median >= _PROBABLE_MEDIAN
        and c.global_ncc >= _PROBABLE_GLOBAL
    )
    # A local change (a stamp, a retouch): the failing blocks lie together, and outside
    # them the pictures agree as closely as copies do.
    local = (
        not whole
        and c.failed_box is not None
        and _box_area(c.failed_box) <= _LOCAL_MAX_AREA
        and c.outside >= _MIN_INFORMATIVE
        and c.outside_median >= _LOCAL_EDIT_MEDIAN
    )
    score = max(0.0, min(1.0, 0.5 * c.agree + 0.5 * max(c.median, 0.0)))
    evidence = _evidence(reg, c, hint)
    resolution = _resolution(reg, c, a_info, b_info)
    evidence["resolution_a_per_b"] = None if resolution is None else round(resolution, 4)
    if whole or local:
        relation, original = _label(reg, c, a_info, b_info, local)
        return Verdict("probable", relation, round(score, 4), original, evidence)
    if enough_blocks and c.median >= _POSSIBLE_MEDIAN and c.agree >= _POSSIBLE_AGREE:
        return Verdict("possible", "similar", round(score, 4), None, evidence)
    return Verdict(None, None, round(score, 4), None, evidence)


def _box_area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


_LOSSLESS = frozenset({"PNG", "TIFF", "BMP"})


def _label(
    reg: Registration,
    c: _Comparison,
    a_info: RenditionInfo,
    b_info: RenditionInfo,
    local: bool,
) -> tuple[str, str | None]:
    """Return the relation and which rendition is the likelier original.

    One relation names the most telling change, in this order: geometry (what an archivist
    must hear: "crop of", never "duplicate of"), then content (grayscale, watermark or edit,
    blur), then tone, then size, then file format.
    """
    votes = 0.0  # > 0: a is the original; < 0: b is
    found: list[str] = []
    if reg.code in ("r90", "r180", "r270"):
        found.append("rotated")
    elif reg.code != "id":
        found.append("mirrored")
    # b's frame inside a' (b shows less): b was cut from a, or a has a border added.
    if c.share_b >= _FULL and c.share_a < _CROPPED:
        found.append("bordered" if c.a_border else "cropped")
        votes += -4 if c.a_border else 4
    elif c.share_a >= _FULL and c.share_b < _CROPPED:
        found.append("bordered" if c.b_border else "cropped")
        votes += 4 if c.b_border else -4
    gray_a = c.chroma_a <= _GRAY_CHROMA or a_info.mode in _GRAY_MODES
    gray_b = c.chroma_b <= _GRAY_CHROMA or b_info.mode in _GRAY_MODES
    if gray_b and not gray_a and c.chroma_a >= _COLOUR_CHROMA:
        found.append("grayscale")
        votes += 4
    elif gray_a and not gray_b and c.chroma_b >= _COLOUR_CHROMA:
        found.append("grayscale")
        votes -= 4
    compact = (
        c.outliers >= _LOCAL_MIN_OUTLIERS
        and c.outlier_box is not None
        and _box_area(c.outlier_box) <= _LOCAL_MAX_AREA
    )
    # Detail gained or lost where the pictures differ, beyond what the whole picture lost
    # (a blurred copy loses most where the detail was: that is no watermark).
    stroke = c.outlier_detail / max(c.detail, 1e-3)
    if compact and (max(stroke, 1 / stroke) >= _WATERMARK_DETAIL or c.overlay >= _OVERLAY):
        # Strokes added in one region: the picture that gained them is the copy.
        found.append("watermarked")
        votes += 3 if stroke > 1 else -3
    elif local or (compact and c.residual_top[0] >= _EDIT_RESIDUAL):
        found.append("edited")
    if c.detail < _BLUR_RATIO:
        found.append("blurred")
        votes += 3
    elif c.detail > 1.0 / _BLUR_RATIO:
        found.append("blurred")
        votes -= 3
    colourful = max(c.chroma_a, c.chroma_b) >= _SATURATED_CHROMA
    if (
        abs(c.gain - 1.0) > _GAIN
        or abs(c.offset + (c.gain - 1.0) * 128.0) > _OFFSET
        or (colourful and abs(c.saturation - 1.0) > _SATURATION)
        or (max(c.chroma_a, c.chroma_b) >= _COLOUR_CHROMA and c.cast > _CAST)
    ):
        found.append("colour_adjusted")
        # Clipped highlights or shadows cannot be restored: the picture with more is the copy.
        if abs(c.clipped_b - c.clipped_a) >= _CLIPPED_MORE:
            votes += 1.5 if c.clipped_b > c.clipped_a else -1.5
    # Resolution: how many of its file's pixels each rendition spends on the same content
    # (a crop or a border changes the frame, not this).
    resolution = _resolution(reg, c, a_info, b_info)
    if resolution is not None and abs(math.log(resolution)) > _SAME_SIZE:
        found.append("resized")
        votes += 2 if resolution > 1 else -2
    fmt_a, fmt_b = a_info.format.upper(), b_info.format.upper()
    if fmt_a != fmt_b:
        found.append("format_converted")
        if fmt_a in _LOSSLESS and fmt_b not in _LOSSLESS:
            votes -= 0.5  # a lossless copy of a JPEG is the later file, as a rule
        elif fmt_b in _LOSSLESS and fmt_a not in _LOSSLESS:
            votes += 0.5
    relation = found[0] if found else "reencoded"
    if relation == "reencoded" and a_info.file_size != b_info.file_size:
        votes += 0.5 if a_info.file_size > b_info.file_size else -0.5  # more bytes kept more
    votes += _metadata_votes(a_info, b_info)
    original = "a" if votes > 0 else "b" if votes < 0 else None
    return relation, original


def _resolution(
    reg: Registration, c: _Comparison, a_info: RenditionInfo, b_info: RenditionInfo
) -> float | None:
    """Return a's pixels per b's pixel for the content they share, in the files themselves.

    One b thumbnail pixel shows reg.scale thumbnail pixels of a; each thumbnail pixel stands
    for sqrt(file area / thumbnail area) file pixels (orientation does not change areas).
    """
    file_a, file_b = a_info.width * a_info.height, b_info.width * b_info.height
    if file_a <= 0 or file_b <= 0:
        return None
    thumb_a, thumb_b = c.a_size[0] * c.a_size[1], c.b_size[0] * c.b_size[1]
    return reg.scale * math.sqrt(file_a / thumb_a) / math.sqrt(file_b / thumb_b)


def _metadata_votes(a: RenditionInfo, b: RenditionInfo) -> float:
    """Return the votes of the files' own records: capture time and metadata."""
    votes = 0.0
    if a.capture_time and b.capture_time and a.capture_time != b.capture_time:
        votes += 1.5 if a.capture_time < b.capture_time else -1.5
    elif a.capture_time and not b.capture_time:
        votes += 1.0
    elif b.capture_time and not a.capture_time:
        votes -= 1.0
    if a.metadata_fields != b.metadata_fields:
        votes += 1.0 if a.metadata_fields > b.metadata_fields else -1.0
    return votes


def _evidence(reg: Registration, c: _Comparison, hint: str | None) -> dict[str, Any]:
    """Return the numbers behind a verdict, JSON-ready."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(float(x), 4)

    return {
        "hint": hint,
        "hint_used": reg.hint,
        "transform": reg.code,
        "scale": r(reg.scale),
        "registration_ncc": r(reg.ncc),
        "frame_of_b_in_a": [r(v) for v in c.frame],
        "share_a": r(c.share_a),
        "share_b": r(c.share_b),
        "border_a": c.a_border,
        "border_b": c.b_border,
        "blocks": {
            "count": c.blocks,
            "informative": c.informative,
            "matched": r(c.matched),
            "agree": r(c.agree),
            "median_ncc": r(c.median),
            "global_ncc": r(c.global_ncc),
            "failed": c.failed,
            "failed_box": None if c.failed_box is None else [r(v) for v in c.failed_box],
            "outside": c.outside,
            "outside_median_ncc": r(c.outside_median),
        },
        "colour": {
            "gain": r(c.gain),
            "offset": r(c.offset),
            "chroma_a": r(c.chroma_a),
            "chroma_b": r(c.chroma_b),
            "saturation": r(c.saturation),
            "cast": r(c.cast),
        },
        "clipped": [r(c.clipped_a), r(c.clipped_b)],
        "detail_ratio": r(c.detail),
        "local": {
            "outliers": c.outliers,
            "box": None if c.outlier_box is None else [r(v) for v in c.outlier_box],
            "detail": r(c.outlier_detail),
            "overlay": r(c.overlay),
            "top": c.residual_top,
        },
    }
