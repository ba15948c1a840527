"""Register one picture onto another: dihedral transform, scale and shift. Pure: no Django.

The index hint ("<code on a>><code on b>", see inventory.imaging.fingerprints) proposes where b lies
in a; a coarse search over scales finds the shift of each by masked normalised
cross-correlation (FFT), and Gauss-Newton refines scale and shift to a fraction of a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.fft
import scipy.ndimage
from PIL import Image

from inventory.imaging.fingerprints import (
    DIHEDRAL,
    best_link,
    compute_fingerprints,
    find_border,
    window_boxes,
)

Box = tuple[float, float, float, float]
FULL_BOX: Box = (0.0, 0.0, 1.0, 1.0)

_LANCZOS = Image.Resampling.LANCZOS
_BILINEAR = Image.Resampling.BILINEAR
# The scale search works on about _COARSE_AREA pixels of b, the refinement on _REFINE_AREA.
_COARSE_AREA = 64 * 64
_REFINE_AREA = 96 * 96
_REFINE_ITERATIONS = 5
_EDGE_BAND = 3  # pixels at the edge of either picture left out of the refinement
# Both smoothed alike (Gaussian sigma in pixels) against JPEG and resampling noise.
SMOOTH = 1.0
# Scale search around the hinted scale (log steps of 3%): windows are 5 points apart, so a
# crop lies within about 4% of the nearest window's scale; a framed hint within 2%.
_SPREAD_WINDOW = 0.09
_SPREAD_FRAMED = 0.03
# Without a usable hint: scales from about 0.6 to 1.6 times the framed one, 7% apart.
_SPREAD_WIDE = 0.5
_WIDE_STEP = 0.07
_WIDE_AREA = 48 * 48
# A shift is considered only where the two pictures overlap on at least this share of the
# smaller one: it keeps edge-of-frame noise out of the correlation peak.
_MIN_OVERLAP = 0.45
# Stop trying hypotheses once one registers this well (normalised correlation, coarse).
_GOOD_REGISTRATION = 0.85
_INVERSE = {"r90": "r270", "r270": "r90"}


@dataclass(slots=True)
class Registration:
    """b's pixel (x, y) shows a'(scale * x + tx, scale * y + ty); a' is a after `code`."""

    code: str
    scale: float
    tx: float
    ty: float
    ncc: float  # normalised correlation at the coarse size
    hint: str  # the hint whose hypothesis won ("wide": none did)


class Picture:
    """A grayscale picture with its reductions cached (every verdict needs several)."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
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


def register(
    a: Image.Image, b: Image.Image, hint: str | None
) -> tuple[Registration, Picture, Picture] | None:
    """Find how b (L) lies in a (L) transformed: dihedral code, scale and shift.

    Returns the registration with the transformed a and b as cached pictures, or None when
    nothing registers at all.
    """
    b_pic = Picture(b)
    a_pics: dict[str, Picture] = {}

    def a_pic(code: str) -> Picture:
        if code not in a_pics:
            a_pics[code] = Picture(a.transpose(DIHEDRAL[code]) if code != "id" else a)
        return a_pics[code]

    best: Registration | None = None
    tried: set[str] = set()
    for h in _hints(hint):
        if h is None:  # the index's hint did not register well: derive one from the images
            h = _own_hint(a, b)
        if h is None or h in tried:
            continue
        tried.add(h)
        for code, box_a, box_b, spread in _hypotheses(h, a, b):
            found = _search(a_pic(code), b_pic, code, box_a, box_b, spread, h)
            if found is not None and (best is None or found.ncc > best.ncc):
                best = found
            if best is not None and best.ncc >= _GOOD_REGISTRATION:
                break
        if best is not None and best.ncc >= _GOOD_REGISTRATION:
            break
    if best is None or best.ncc < _GOOD_REGISTRATION:
        # No hint framed it: search a wide range of scales (an off-centre crop, say).
        code = best.code if best is not None else "id"
        wide = _search(
            a_pic(code),
            b_pic,
            code,
            FULL_BOX,
            FULL_BOX,
            _SPREAD_WIDE,
            "wide",
            step=_WIDE_STEP,
            area=_WIDE_AREA,
        )
        if wide is not None and (best is None or wide.ncc > best.ncc):
            best = wide
    if best is None:
        return None
    return _refine(a_pic(best.code), b_pic, best), a_pic(best.code), b_pic


def _hints(hint: str | None) -> list[str | None]:
    """Return the hints to try in order; None stands for one derived from the images."""
    hints: list[str | None] = [hint] if hint and ">" in hint else []
    return [*hints, None, "global>global"]


def _own_hint(a_gray: Image.Image, b_gray: Image.Image) -> str | None:
    """Return the hint the index would give for these two pictures, if they are hashable."""
    fa, fb = compute_fingerprints(a_gray), compute_fingerprints(b_gray)
    return best_link(fa, fb)[1] if fa is not None and fb is not None else None


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
    framed = box_a == FULL_BOX and box_b == FULL_BOX
    hypotheses = [(code, box_a, box_b, _SPREAD_FRAMED if framed else _SPREAD_WINDOW)]
    if not framed:
        hypotheses.append((code, FULL_BOX, FULL_BOX, _SPREAD_FRAMED))
    return hypotheses


def _code_box(code: str, im: Image.Image) -> Box:
    """Return the part of a picture (fractions) that an index code hashed."""
    windows = window_boxes(im.width / im.height)
    if code in windows:
        return windows[code]
    if code == "trim":
        box = find_border(np.asarray(im, dtype=np.float32))
        return box if box is not None else FULL_BOX
    return FULL_BOX


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


def fit_size(size: tuple[int, int], area: int) -> tuple[int, int]:
    """Return a size of about `area` pixels with the same shape, never enlarged."""
    w, h = size
    k = min(1.0, math.sqrt(area / (w * h)))
    return max(8, round(w * k)), max(8, round(h * k))


def _search(
    a: Picture,
    b: Picture,
    code: str,
    box_a: Box,
    box_b: Box,
    spread: float,
    hint: str,
    step: float = 0.03,
    area: int = _COARSE_AREA,
) -> Registration | None:
    """Search scales around a hypothesis at a coarse size; find each one's shift by FFT."""
    wa, ha = a.size
    wb, hb = b.size
    scale_x = (box_a[2] - box_a[0]) * wa / ((box_b[2] - box_b[0]) * wb)
    scale_y = (box_a[3] - box_a[1]) * ha / ((box_b[3] - box_b[1]) * hb)
    s0 = math.sqrt(scale_x * scale_y)
    fixed_size = fit_size((wb, hb), area)
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
    return Registration(code, scale, -rax * px, -ray * py, float(ncc), hint)


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
        iy, ix = (int(i) for i in np.unravel_index(int(np.argmax(ncc)), ncc.shape))
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


def _refine(a: Picture, b: Picture, reg: Registration) -> Registration:
    """Refine scale and shift by Gauss-Newton, with gain and offset free.

    The model is b(X) = gain * a'(scale * X + t) + offset; robust (Tukey) weights keep a
    watermark or a moved subject from pulling the fit.
    """
    wb, hb = b.size
    size = fit_size((wb, hb), _REFINE_AREA)
    kx, ky = size[0] / wb, size[1] / hb  # grid pixels per b pixel
    target = scipy.ndimage.gaussian_filter(b.at(size), SMOOTH).ravel().astype(np.float64)
    # a' at about the grid's pixel size, smoothed alike; sampled bilinearly from here.
    wa, ha = a.size
    q_size = (max(8, round(wa * kx / reg.scale)), max(8, round(ha * ky / reg.scale)))
    source = scipy.ndimage.gaussian_filter(a.at(q_size), SMOOTH)
    qx, qy = q_size[0] / wa, q_size[1] / ha
    grad_v, grad_u = np.gradient(source)
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    xb = ((xs + 0.5) / kx).ravel()  # b pixel coordinates of the grid's pixel centres
    yb = ((ys + 0.5) / ky).ravel()
    # Smoothing mixes whatever lies beyond b's frame into its edge pixels (in a', a border
    # or more picture; in b, a reflection): those pixels would bias the scale.
    band = _EDGE_BAND
    interior = ((xs >= band) & (xs < size[0] - band) & (ys >= band) & (ys < size[1] - band)).ravel()
    scale, tx, ty = reg.scale, reg.tx, reg.ty
    weights = np.ones_like(target)
    for iteration in range(_REFINE_ITERATIONS):
        u = (scale * xb + tx) * qx - 0.5
        v = (scale * yb + ty) * qy - 0.5
        inside = interior & (u >= band) & (u <= q_size[0] - 1 - band)
        inside &= (v >= band) & (v <= q_size[1] - 1 - band)
        if inside.sum() < 0.2 * inside.size:
            break
        warped = scipy.ndimage.map_coordinates(source, [v, u], order=1, mode="nearest")
        # The source's own gradient at the sampled points: d(warped)/du and d(warped)/dv.
        gu = scipy.ndimage.map_coordinates(grad_u, [v, u], order=1)
        gv = scipy.ndimage.map_coordinates(grad_v, [v, u], order=1)
        if iteration:
            # Robust weights from this warp's residual after a plain tone fit. Not on the
            # first step: a misaligned start makes every edge an outlier.
            tone = np.polyfit(warped[inside], target[inside], 1)
            residual = target - np.polyval(tone, warped)
            sigma = 1.4826 * float(np.median(np.abs(residual[inside]))) + 1.0
            weights = np.clip(1.0 - (residual / (4.685 * sigma)) ** 2, 0.0, None) ** 2
        m = inside & (weights > 0)
        design = np.stack(
            [
                warped[m],
                np.ones(int(m.sum())),
                gu[m] * qx,
                gv[m] * qy,
                gu[m] * qx * xb[m] + gv[m] * qy * yb[m],
            ],
            axis=1,
        )
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
    return replace(reg, scale=scale, tx=tx, ty=ty)
