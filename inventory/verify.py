"""Verify a candidate pair of renditions on their small images and say how one derives from the other.

Pure: no Django. The caller passes the two renditions' thumbnails (about 320 px), what the
scanner recorded about each file, and the index hint that produced the pair. The hint only
steers the search; every verdict rests on the registration and comparison made here.
Thresholds are calibrated on the accuracy corpus (bench/accuracy.py); docs/matching.md says how.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.fft
import scipy.ndimage
from PIL import Image

from inventory.fingerprints import (
    DIHEDRAL,
    best_link,
    compute_fingerprints,
    find_border,
    window_boxes,
)

Box = tuple[float, float, float, float]

RELATIONS = (
    "resized", "reencoded", "format_converted", "cropped", "rotated", "mirrored",
    "colour_adjusted", "grayscale", "watermarked", "bordered", "blurred", "edited", "similar",
)  # fmt: skip

_LANCZOS = Image.Resampling.LANCZOS
_BOX = Image.Resampling.BOX
_BILINEAR = Image.Resampling.BILINEAR
# Registration searches on about _COARSE_AREA pixels, refines and compares blocks on about
# _FINE_AREA and compares sharpness on at most _DETAIL px of long side.
_COARSE_AREA = 64 * 64
_FINE_AREA = 128 * 128
_REFINE_AREA = 96 * 96
_COLOUR_AREA = 48 * 48
_DETAIL = 320
_REFINE_ITERATIONS = 5
# Scale search around the hinted scale (log steps): windows are 5 points apart, so a crop lies
# within about 4% of the nearest window's scale; a framed hint (global, dihedral) within 2%.
_SPREAD_WINDOW = 0.09
_SPREAD_FRAMED = 0.03
# Without a usable hint: scales from about 0.6 to 1.6 times the framed one, 5% apart.
_SPREAD_WIDE = 0.5
_WIDE_STEP = 0.07
_WIDE_AREA = 48 * 48
# A shift is considered only where the two pictures overlap on at least this share of the
# smaller one: it keeps edge-of-frame noise out of the correlation peak.
_MIN_OVERLAP = 0.45
# Stop trying hypotheses once one registers this well (normalised correlation at _COARSE).
_GOOD_REGISTRATION = 0.85

# Block comparison at _FINE after smoothing by _SMOOTH pixels: blocks about _BLOCK px wide.
_SMOOTH = 1.0
_BLOCKS_LONG = 8
# A block is informative when either side's contrast (grey-level std) reaches this.
_INFORMATIVE_STD = 4.0
# A block matches when its zero-mean normalised correlation reaches _BLOCK_MATCH, or, when
# both sides are flat, their levels agree within _FLAT_LEVEL after the global gain/offset.
_BLOCK_MATCH = 0.80
_FLAT_LEVEL = 10.0

# Decision thresholds (calibrated on the accuracy corpus's half A, checked on half B;
# docs/matching.md).
_PROBABLE_MATCHED = 0.85  # share of blocks that match
_PROBABLE_MEDIAN = 0.95  # median correlation of informative blocks
_PROBABLE_GLOBAL = 0.90  # correlation over the whole overlap
# A local edit (watermark, retouch): a few blocks fail, together, and the rest agree closely.
_LOCAL_MIN_BLOCKS = 1
_LOCAL_MIN_OUTLIERS = 2  # a text line spans blocks; one odd block is noise or a lost edge
_LOCAL_EDIT_MATCHED = 0.60
_LOCAL_EDIT_MEDIAN = 0.97
_LOCAL_MAX_AREA = 0.35
_RESIDUAL_FLOOR = 2.0  # levels added to the typical block residual (noise floor)
_RESIDUAL_OUTLIER = 2.2  # a block whose residual is this many times the typical one...
_WATERMARK_DETAIL = 2.0  # ...where one picture has this much more fine detail: a watermark
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
_PLAIN_SHARE = 0.9  # ...this share of them
_GRAY_CHROMA = 0.75  # mean chroma (levels) of a picture with no colour (rounding only)
_COLOUR_CHROMA = 2.5  # ... and of one with colour (a dim star field has about 3)
_GRAY_MODES = frozenset({"L", "LA", "1", "I", "I;16", "F"})
# Saturation is judged only on pictures this colourful: small coloured specks (a star
# field) lose chroma to any resize or compression.
_SATURATED_CHROMA = 8.0
_GAIN = 0.08  # change of contrast that counts as a tonal adjustment
_OFFSET = 10.0  # change of mid-gray level (levels) that does
_SATURATION = 0.12  # change of colourfulness that does
_CAST = 1.5  # shift of a colour channel (levels) that does (re-encodes stay under 1)
_CLIPPED_MORE = 0.01  # more of the picture clipped to black or white: the adjusted copy
_BLUR_RATIO = 0.55  # detail energy ratio below which the softer picture was blurred
_SAME_SIZE = 0.02  # relative difference of pixel dimensions that counts as a resize


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


@dataclass(slots=True)
class _Registration:
    """b's pixel (x, y) shows a'(scale * x + tx, scale * y + ty); a' is a after `code`."""

    code: str
    scale: float
    tx: float
    ty: float
    ncc: float
    hint: str


class _Picture:
    """A grayscale picture with its reductions cached (every verdict needs several)."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.pixels = np.asarray(image, dtype=np.float32)
        self._levels = [image]
        while min(self._levels[-1].size) >= 96:
            self._levels.append(self._levels[-1].reduce(2))
        self._sizes: dict[tuple[tuple[int, int], bool], np.ndarray] = {}

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def at(self, size: tuple[int, int], *, rough: bool = False) -> np.ndarray:
        """Return the picture resized to size, as float32.

        Rough versions (for the scale search) come bilinearly from the nearest finer
        reduction; the others by Lanczos from the picture itself.
        """
        key = (size, rough)
        if key not in self._sizes:
            if rough:
                source = self._levels[0]
                for level in self._levels[1:]:
                    if level.width >= 2 * size[0] and level.height >= 2 * size[1]:
                        source = level
                resized = source.resize(size, _BILINEAR)
            else:
                resized = self.image.resize(size, _LANCZOS, reducing_gap=2.0)
            self._sizes[key] = np.asarray(resized, dtype=np.float32)
        return self._sizes[key]


def verify_pair(
    a: Image.Image,
    b: Image.Image,
    *,
    a_info: RenditionInfo,
    b_info: RenditionInfo,
    hint: str | None = None,
) -> Verdict:
    """Register b onto a, compare them block by block and return the verdict."""
    a_rgb, b_rgb = _rgb(a), _rgb(b)
    a_gray = a_rgb.convert("L")
    b_pic = _Picture(b_rgb.convert("L"))
    a_pics: dict[str, _Picture] = {}

    def a_pic(code: str) -> _Picture:
        if code not in a_pics:
            a_pics[code] = _Picture(a_gray.transpose(DIHEDRAL[code]) if code != "id" else a_gray)
        return a_pics[code]

    best: _Registration | None = None
    tried: set[str] = set()
    for h in _hints(hint, a_gray, b_pic.image):
        if h is None:  # the index's hint did not register well: derive one from the images
            h = _own_hint(a_gray, b_pic.image)
        if h is None or h in tried:
            continue
        tried.add(h)
        for code, box_a, box_b, spread in _hypotheses(h, a_gray, b_pic.image):
            reg = _search(a_pic(code), b_pic, code, box_a, box_b, spread, h)
            if reg is not None and (best is None or reg.ncc > best.ncc):
                best = reg
            if best is not None and best.ncc >= _GOOD_REGISTRATION:
                break
        if best is not None and best.ncc >= _GOOD_REGISTRATION:
            break
    if best is None or best.ncc < _GOOD_REGISTRATION:
        # No hint framed it: search a wide range of scales (an off-centre crop, say).
        code = best.code if best is not None else "id"
        wide = _search(a_pic(code), b_pic, code, _FULL_BOX, _FULL_BOX, _SPREAD_WIDE, "wide",
                       step=_WIDE_STEP, area=_WIDE_AREA)  # fmt: skip
        if wide is not None and (best is None or wide.ncc > best.ncc):
            best = wide
    if best is None:
        return Verdict(None, None, 0.0, None, {"hint": hint, "reason": "no registration"})
    best = _refine(a_pic(best.code), b_pic, best)
    a_t = a_rgb.transpose(DIHEDRAL[best.code]) if best.code != "id" else a_rgb
    comparison = _compare(a_pic(best.code), b_pic, a_t, b_rgb, best)
    return _decide(best, comparison, a_info, b_info, hint)


def _rgb(im: Image.Image) -> Image.Image:
    """Return the image as RGB (grayscale pictures too, so colour statistics are uniform)."""
    return im if im.mode == "RGB" else im.convert("RGB")


def _hints(hint: str | None, a_gray: Image.Image, b_gray: Image.Image) -> list[str | None]:
    """Return the hints to try in order; None stands for one derived from the images."""
    hints: list[str | None] = [hint] if hint and ">" in hint else []
    return [*hints, None, "global>global"]


def _own_hint(a_gray: Image.Image, b_gray: Image.Image) -> str | None:
    """Return the hint the index would give for these two pictures, if they are hashable."""
    fa, fb = compute_fingerprints(a_gray), compute_fingerprints(b_gray)
    return best_link(fa, fb)[1] if fa is not None and fb is not None else None


_INVERSE = {"r90": "r270", "r270": "r90"}
_FULL_BOX: Box = (0.0, 0.0, 1.0, 1.0)


def _hypotheses(hint: str, a: Image.Image, b: Image.Image) -> list[tuple[str, Box, Box, float]]:
    """Turn a hint into (transform of a, box in transformed a, box in b, scale spread)."""
    left, _, right = hint.partition(">")
    code = "id"
    if left in DIHEDRAL:
        code = left
    elif right in DIHEDRAL:
        code = _INVERSE.get(right, right)
    box_a = _code_box(left, a)
    box_b = _code_box(right, b)
    if right in DIHEDRAL:
        # b transformed matched a window of a: in a' that window is transformed too.
        box_a = _transform_box(box_a, code)
    framed = box_a == _FULL_BOX and box_b == _FULL_BOX
    hypotheses = [(code, box_a, box_b, _SPREAD_FRAMED if framed else _SPREAD_WINDOW)]
    if not framed:
        hypotheses.append((code, _FULL_BOX, _FULL_BOX, _SPREAD_FRAMED))
    return hypotheses


def _code_box(code: str, im: Image.Image) -> Box:
    """Return the part of a picture (fractions) that an index code hashed."""
    windows = window_boxes(im.width / im.height)
    if code in windows:
        return windows[code]
    if code == "trim":
        box = find_border(np.asarray(im, dtype=np.float32))
        return box if box is not None else _FULL_BOX
    return _FULL_BOX


def _transform_box(box: Box, code: str) -> Box:
    """Return where a box (fractions) lies after a dihedral transform of its picture."""
    corners = np.array([[box[0], box[1]], [box[2], box[3]]])
    x, y = corners[:, 0], corners[:, 1]
    mapping = {
        "id": (x, y),
        "fh": (1 - x, y),
        "fv": (x, 1 - y),
        "r180": (1 - x, 1 - y),
        "tp": (y, x),
        "r90": (y, 1 - x),
        "r270": (1 - y, x),
        "tv": (1 - y, 1 - x),
    }
    nx, ny = mapping[code]
    return (float(nx.min()), float(ny.min()), float(nx.max()), float(ny.max()))


def _grid(size: tuple[int, int], area: int) -> tuple[int, int]:
    """Return a size of about `area` pixels with the same shape, never enlarged."""
    w, h = size
    k = min(1.0, math.sqrt(area / (w * h)))
    return max(8, round(w * k)), max(8, round(h * k))


def _search(
    a: _Picture,
    b: _Picture,
    code: str,
    box_a: Box,
    box_b: Box,
    spread: float,
    hint: str,
    step: float = 0.03,
    area: int = _COARSE_AREA,
) -> _Registration | None:
    """Search scales around a hypothesis at a coarse size; find each one's shift by FFT."""
    wa, ha = a.size
    wb, hb = b.size
    scale_x = (box_a[2] - box_a[0]) * wa / ((box_b[2] - box_b[0]) * wb)
    scale_y = (box_a[3] - box_a[1]) * ha / ((box_b[3] - box_b[1]) * hb)
    s0 = math.sqrt(scale_x * scale_y)
    fixed_size = _grid((wb, hb), area)
    fixed = b.at(fixed_size, rough=True)
    kx, ky = fixed_size[0] / wb, fixed_size[1] / hb  # coarse pixels per b pixel
    steps = np.exp(np.linspace(-spread, spread, 2 * round(spread / step) + 1))
    sizes = []
    for step in steps:
        size = (max(8, round(wa * kx / (s0 * step))), max(8, round(ha * ky / (s0 * step))))
        if size[0] * size[1] <= 6 * fixed.size:
            sizes.append((float(s0 * step), size))
    if not sizes:
        return None
    largest = max(sizes, key=lambda x: x[1][0] * x[1][1])[1]
    correlator = _Correlator(fixed, (largest[1], largest[0]))
    peaks = []
    for s, size in sizes:
        peak = correlator.peak(a.at(size, rough=True))
        if peak is not None:
            peaks.append((peak[0], s, size, peak[1], peak[2]))
    if not peaks:
        return None
    ncc, s, size, px, py = max(peaks)
    # b's coarse pixel x shows the moving picture's x - px, i.e. a's (x - px) * wa / size[0].
    rax, ray = wa / size[0], ha / size[1]
    scale = math.sqrt(rax * kx * ray * ky)
    return _Registration(code, scale, -rax * px, -ray * py, float(ncc), hint)


class _Correlator:
    """Masked normalised cross-correlation (Padfield 2012) of pictures against one fixed one."""

    def __init__(self, fixed: np.ndarray, largest: tuple[int, int]) -> None:
        # Zero-mean single precision: the sums below stay well inside float32's range.
        fixed = fixed - np.float32(fixed.mean())
        self.fixed = fixed
        hf, wf = fixed.shape
        self.shape = (hf + largest[0] - 1, wf + largest[1] - 1)
        self.fast = tuple(scipy.fft.next_fast_len(n, real=True) for n in self.shape)
        self.f_f = self._fft(fixed)
        self.f_f2 = self._fft(fixed * fixed)
        self.f_ones = self._fft(np.ones_like(fixed))

    def _fft(self, x: np.ndarray) -> np.ndarray:
        return scipy.fft.rfft2(x, self.fast)

    def _ifft(self, x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        return scipy.fft.irfft2(x, self.fast)[: shape[0], : shape[1]]

    def peak(self, moving: np.ndarray) -> tuple[float, float, float] | None:
        """Return the best correlation and where moving's top-left corner then lies."""
        hf, wf = self.fixed.shape
        hm, wm = moving.shape
        shape = (hf + hm - 1, wf + wm - 1)
        rot = moving[::-1, ::-1] - np.float32(moving.mean())
        m_f, m_f2, m_ones = self._fft(rot), self._fft(rot * rot), self._fft(np.ones_like(rot))
        overlap = np.maximum(np.round(self._ifft(self.f_ones * m_ones, shape)), 1.0)
        sum_f = self._ifft(self.f_f * m_ones, shape)
        sum_m = self._ifft(self.f_ones * m_f, shape)
        numerator = self._ifft(self.f_f * m_f, shape) - sum_f * sum_m / overlap
        var_f = np.maximum(self._ifft(self.f_f2 * m_ones, shape) - sum_f**2 / overlap, 0.0)
        var_m = np.maximum(self._ifft(self.f_ones * m_f2, shape) - sum_m**2 / overlap, 0.0)
        denominator = np.sqrt(var_f * var_m)
        enough = overlap >= _MIN_OVERLAP * min(hf * wf, hm * wm)
        valid = enough & (denominator > 1.0 * overlap)
        if not valid.any():
            return None
        ncc = np.where(valid, numerator / np.where(valid, denominator, 1.0), -1.0)
        iy, ix = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
        dy, dx = _subpixel(ncc, iy, ix)
        return float(ncc[iy, ix]), ix + dx - (wm - 1), iy + dy - (hm - 1)


def _subpixel(surface: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Return the parabolic sub-pixel offset of a peak."""

    def offset(lo: float, mid: float, hi: float) -> float:
        denom = lo - 2 * mid + hi
        return 0.0 if denom >= 0 else max(-0.5, min(0.5, 0.5 * (lo - hi) / denom))

    h, w = surface.shape
    dy = offset(surface[iy - 1, ix], surface[iy, ix], surface[iy + 1, ix]) if 0 < iy < h - 1 else 0
    dx = offset(surface[iy, ix - 1], surface[iy, ix], surface[iy, ix + 1]) if 0 < ix < w - 1 else 0
    return float(dy), float(dx)


def _refine(a: _Picture, b: _Picture, reg: _Registration) -> _Registration:
    """Refine scale and shift by Gauss-Newton, with gain and offset free.

    The model is b(X) = gain * a'(scale * X + t) + offset; robust (Tukey) weights keep a
    watermark or a moved subject from pulling the fit.
    """
    wb, hb = b.size
    grid = _grid((wb, hb), _REFINE_AREA)
    kx, ky = grid[0] / wb, grid[1] / hb  # grid pixels per b pixel
    target = scipy.ndimage.gaussian_filter(b.at(grid), _SMOOTH).ravel().astype(np.float64)
    # a' at about the grid's pixel size, smoothed alike; sampled bilinearly from here.
    wa, ha = a.size
    q_size = (max(8, round(wa * kx / reg.scale)), max(8, round(ha * ky / reg.scale)))
    source = scipy.ndimage.gaussian_filter(a.at(q_size), _SMOOTH)
    qx, qy = q_size[0] / wa, q_size[1] / ha
    grad_v, grad_u = np.gradient(source)
    ys, xs = np.mgrid[0 : grid[1], 0 : grid[0]]
    xb = ((xs + 0.5) / kx).ravel()  # b pixel coordinates of the grid's pixel centres
    yb = ((ys + 0.5) / ky).ravel()
    scale, tx, ty = reg.scale, reg.tx, reg.ty
    weights = np.ones_like(target)
    for _ in range(_REFINE_ITERATIONS):
        u = (scale * xb + tx) * qx - 0.5
        v = (scale * yb + ty) * qy - 0.5
        inside = (u >= 0) & (u <= q_size[0] - 1) & (v >= 0) & (v <= q_size[1] - 1)
        if inside.sum() < 0.2 * inside.size:
            break
        warped = scipy.ndimage.map_coordinates(source, [v, u], order=1, mode="nearest")
        # The source's own gradient at the sampled points: d(warped)/du and d(warped)/dv.
        gu = scipy.ndimage.map_coordinates(grad_u, [v, u], order=1)
        gv = scipy.ndimage.map_coordinates(grad_v, [v, u], order=1)
        # Robust weights from this warp's residual after a plain tone fit, before the solve,
        # so that even the first step ignores a watermark.
        tone = np.polyfit(warped[inside], target[inside], 1, w=np.sqrt(weights[inside]))
        residual = target - np.polyval(tone, warped)
        sigma = 1.4826 * float(np.median(np.abs(residual[inside]))) + 1.0
        weights = np.clip(1.0 - (residual / (4.685 * sigma)) ** 2, 0.0, None) ** 2
        m = inside & (weights > 0)
        design = np.stack(
            [warped[m], np.ones(int(m.sum())), gu[m] * qx, gv[m] * qy,
             gu[m] * qx * xb[m] + gv[m] * qy * yb[m]],
            axis=1,
        )  # fmt: skip
        weighted = design * weights[m][:, None]
        try:
            sol = np.linalg.solve(weighted.T @ design, weighted.T @ target[m])
        except np.linalg.LinAlgError:
            break
        gain = sol[0]
        if abs(gain) < 1e-3:
            break
        dtx, dty, dscale = sol[2] / gain, sol[3] / gain, sol[4] / gain
        scale, tx, ty = scale + dscale, tx + dtx, ty + dty
        if abs(dscale) < 2e-4 * scale and abs(dtx) * qx < 0.03 and abs(dty) * qy < 0.03:
            break
    if not (0.5 * reg.scale < scale < 2.0 * reg.scale):
        return reg
    return _Registration(reg.code, scale, tx, ty, reg.ncc, reg.hint)


@dataclass(slots=True)
class _Comparison:
    """What the aligned pictures share and how they differ."""

    share_a: float  # of a' inside the overlap
    share_b: float  # of b inside the overlap
    frame: Box  # b's frame in a' (fractions; beyond 0..1 where b shows more)
    a_margin_plain: float | None  # share of a' outside the overlap near one level
    b_margin_plain: float | None  # the same for b
    blocks: int
    informative: int
    agree: float  # share of informative blocks that match (flat ones prove nothing)
    matched: float
    median: float
    global_ncc: float
    failed: int
    failed_box: Box | None  # bounding box (fractions of the overlap) of failing blocks
    failed_contrast: float  # b's contrast over a's in the failing blocks
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
    a: _Picture, b: _Picture, a_rgb: Image.Image, b_rgb: Image.Image, reg: _Registration
) -> _Comparison:
    """Resample a' onto b's grid where they overlap and compare them."""
    wa, ha = a.size
    wb, hb = b.size
    fw, fh = _grid((wb, hb), _FINE_AREA)
    kx, ky = fw / wb, fh / hb
    s, tx, ty = reg.scale, reg.tx, reg.ty
    # b's fine pixel edge X lies at a' x = s * X / kx + tx; keep whole pixels inside a'.
    x0 = max(0, math.ceil(-tx * kx / s - 1e-6))
    x1 = min(fw, math.floor((wa - tx) * kx / s + 1e-6))
    y0 = max(0, math.ceil(-ty * ky / s - 1e-6))
    y1 = min(fh, math.floor((ha - ty) * ky / s + 1e-6))
    if x1 - x0 < 8 or y1 - y0 < 8:
        x0, x1, y0, y1 = 0, fw, 0, fh
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
    sa = scipy.ndimage.gaussian_filter(la, _SMOOTH)
    sb = scipy.ndimage.gaussian_filter(lb, _SMOOTH)
    gain, offset = _gain(sa, sb)
    blocks = _blocks(sa, sb, gain, offset)
    grid = blocks.pop("grid")
    fine = _detail(a.image, b.image, box_a, box_b, grid, gain, offset)
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1]) / (wa * ha)
    area_b = size[0] * size[1] / (fw * fh)
    a_margin = None
    if area_a < _FULL:
        small = _grid((wa, ha), _FINE_AREA)
        kax, kay = small[0] / wa, small[1] / ha
        a_box = (round(box_a[0] * kax), round(box_a[1] * kay), round(box_a[2] * kax),
                 round(box_a[3] * kay))  # fmt: skip
        a_margin = _margin_plain(a.at(small), a_box)
    b_margin = _margin_plain(b_whole, (x0, y0, x1, y1)) if area_b < _FULL else None
    # Colour is a global property: a small grid is enough.
    csize = _grid(size, _COLOUR_AREA)
    ca = np.asarray(a_rgb.resize(csize, _BOX, box=box_a), np.float32)
    cb = np.asarray(b_rgb.resize(csize, _BOX, box=box_b), np.float32)
    return _Comparison(
        share_a=area_a,
        share_b=area_b,
        frame=(tx / wa, ty / ha, (s * wb + tx) / wa, (s * hb + ty) / ha),
        a_margin_plain=a_margin,
        b_margin_plain=b_margin,
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


def _colour(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
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
    failed_contrast = 1.0
    if fail.any():
        ys, xs = np.nonzero(fail)
        failed_box = (xs.min() / nx, ys.min() / ny, (xs.max() + 1) / nx, (ys.max() + 1) / ny)
        failed_contrast = float((sdb[fail].mean() + 1.0) / (sda[fail].mean() * abs(gain) + 1.0))
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
        "failed_contrast": failed_contrast,
        "grid": (nx, ny),
    }


def _split(x: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """Return x cut into ny-by-nx blocks, each flattened (remainders dropped)."""
    bh, bw = x.shape[0] // ny, x.shape[1] // nx
    return x[: bh * ny, : bw * nx].reshape(ny, bh, nx, bw).transpose(0, 2, 1, 3).reshape(ny, nx, -1)


def _margin_plain(gray: np.ndarray, box: tuple[int, int, int, int]) -> float | None:
    """Return the share of a picture outside a box that lies near one level, None if none."""
    x0, y0, x1, y1 = box
    mask = np.ones(gray.shape, dtype=bool)
    mask[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = False  # resampling smears edges
    if mask.sum() < 0.02 * gray.size:
        return None
    values = gray[mask]
    return float((np.abs(values - np.median(values)) <= _PLAIN_LEVEL).mean())


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
    textured = usable & (np.maximum(ea, eb) >= np.median(np.maximum(ea, eb)[usable]))
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
        result["outlier_box"] = (xs.min() / nx, ys.min() / ny, (xs.max() + 1) / nx,
                                 (ys.max() + 1) / ny)  # fmt: skip
        result["outlier_detail"] = float((eb[outliers].mean() + 0.5) / (ea[outliers].mean() + 0.5))
        # An overlay (a stamp blended over the picture) shifts its pixels one way: the
        # residual there is one-signed, where a retouch or a lost edge is not.
        strong = _split(residual, *grid)[outliers].ravel()
        strong = strong[np.abs(strong) > 2.0 * (typical + _RESIDUAL_FLOOR)]
        if strong.size >= 16:
            result["overlay"] = float(abs(strong.mean()) / np.sqrt((strong**2).mean()))
    return result


def _decide(
    reg: _Registration,
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
    local = (
        not whole
        and enough_blocks
        and c.failed >= _LOCAL_MIN_BLOCKS
        and c.agree >= _LOCAL_EDIT_MATCHED
        and c.median >= _LOCAL_EDIT_MEDIAN
        and c.failed_box is not None
        and _box_area(c.failed_box) <= _LOCAL_MAX_AREA
    )
    score = max(0.0, min(1.0, 0.5 * c.agree + 0.5 * max(c.median, 0.0)))
    evidence = _evidence(reg, c, hint)
    if whole or local:
        relation, original = _label(reg, c, a_info, b_info, local)
        return Verdict("probable", relation, round(score, 4), original, evidence)
    if enough_blocks and c.median >= _POSSIBLE_MEDIAN and c.agree >= _POSSIBLE_AGREE:
        return Verdict("possible", "similar", round(score, 4), None, evidence)
    return Verdict(None, None, round(score, 4), None, evidence)


def _box_area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


_SWAPS = frozenset({"r90", "r270", "tp", "tv"})
_LOSSLESS = frozenset({"PNG", "TIFF", "BMP"})


def _label(
    reg: _Registration,
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
    if c.share_b >= _FULL and c.share_a < _CROPPED:
        found.append("cropped")
        votes += 4
    elif c.share_a >= _FULL and c.share_b < _CROPPED:
        plain = c.b_margin_plain is not None and c.b_margin_plain >= _PLAIN_SHARE
        found.append("bordered" if plain else "cropped")
        votes += 4 if plain else -4  # the added border is the copy's; the fuller view the original
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
    wa, ha = (a_info.height, a_info.width) if reg.code in _SWAPS else (a_info.width, a_info.height)
    if _swapped(a_info) != _swapped(b_info):
        wa, ha = ha, wa
    area_a, area_b = wa * ha, b_info.width * b_info.height
    if area_a > 0 and area_b > 0 and abs(math.log(area_a / area_b)) > 2 * _SAME_SIZE:
        found.append("resized")
        votes += 2 if area_a > area_b else -2
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


def _swapped(info: RenditionInfo) -> bool:
    """Return whether EXIF orientation swaps the stored width and height for display."""
    return info.orientation in (5, 6, 7, 8)


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


def _evidence(reg: _Registration, c: _Comparison, hint: str | None) -> dict[str, Any]:
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
        "margin_plain_a": r(c.a_margin_plain),
        "margin_plain_b": r(c.b_margin_plain),
        "blocks": {
            "count": c.blocks,
            "informative": c.informative,
            "matched": r(c.matched),
            "agree": r(c.agree),
            "median_ncc": r(c.median),
            "global_ncc": r(c.global_ncc),
            "failed": c.failed,
            "failed_box": None if c.failed_box is None else [r(v) for v in c.failed_box],
            "failed_contrast": r(c.failed_contrast),
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
