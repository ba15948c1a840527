"""Perceptual fingerprints of one rendition: global hashes, query-side probes, index-side keys.

Pure: no Django. Every hash is a 64-bit pHash (imagehash's DCT hash and bit order) except
`dhash`, which is imagehash's difference hash; the two spaces are never compared with each
other. See docs/matching.md for how the probe and key sets were chosen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Below these an image carries no picture worth matching (the scanner's own limits).
MIN_SIDE = 32
MIN_STDDEV = 3.0
_HASH_GRID = 32  # imagehash.phash: 8x8 low frequencies of a 32x32 DCT
# DCT-II rows k = 0..7 of a 32-sample signal: 2 cos(pi k (2n + 1) / 64), scipy's scaling.
_DCT_LOW = 2 * np.cos(
    np.pi * np.arange(8)[:, None] * (2 * np.arange(_HASH_GRID)[None, :] + 1) / (2 * _HASH_GRID)
)
_LANCZOS = Image.Resampling.LANCZOS
# Window keys and the border search work on a box-reduced copy about this long.
_MID_LONG_SIDE = 128

Box = tuple[float, float, float, float]

# Dihedral transforms by code, as Pillow names them (ROTATE_90 turns counter-clockwise).
DIHEDRAL: dict[str, Image.Transpose] = {
    "r90": Image.Transpose.ROTATE_90,
    "r180": Image.Transpose.ROTATE_180,
    "r270": Image.Transpose.ROTATE_270,
    "fh": Image.Transpose.FLIP_LEFT_RIGHT,
    "fv": Image.Transpose.FLIP_TOP_BOTTOM,
    "tp": Image.Transpose.TRANSPOSE,
    "tv": Image.Transpose.TRANSVERSE,
}

# Index-side windows (left, top, right, bottom as fractions of the picture), chosen with
# `python bench/accuracy.py --sweep-keys`: greedy selection from a pool of 32 windows for
# the recall of random crops keeping 60-100% per side (docs/matching.md has the table).
# A pHash tolerates about 2-3% of scale or position, so centred windows sit 5 points apart.
WINDOWS: dict[str, Box] = {
    "w95c": (0.025, 0.025, 0.975, 0.975),
    "w90c": (0.05, 0.05, 0.95, 0.95),
    "w85c": (0.075, 0.075, 0.925, 0.925),
    "w80c": (0.10, 0.10, 0.90, 0.90),
    "w70c": (0.15, 0.15, 0.85, 0.85),
    "w65c": (0.175, 0.175, 0.825, 0.825),
    "w60c": (0.20, 0.20, 0.80, 0.80),
    "h70": (0.0, 0.15, 1.0, 0.85),  # full width, top and bottom cut (wider formats)
    "v70": (0.15, 0.0, 0.85, 1.0),  # full height, sides cut (taller formats)
}
# Plus "sq85": the centred square of 85% of the short side, for pictures that are not square.
_SQUARE = 0.85
_SQUARE_MIN_ASPECT = 1.1

# Border search: a row or column belongs to a border while at least this share of its
# pixels lie within _BORDER_TOLERANCE grey levels of the colour of that side's edge.
_BORDER_SHARE = 0.97
_BORDER_TOLERANCE = 14
# A border counts only when it takes at least this share of a side (smaller is JPEG fringe
# or a dark vignette) and leaves at least _MIN_CONTENT of each side as picture.
_MIN_BORDER = 0.02
_MIN_CONTENT = 0.3
# The trimmed hash leaves out this much more of each trimmed side: a sliver of border in a
# dark picture moves a pHash far more than a slightly tighter crop does.
_TRIM_INSET = 0.006


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """The hashes the candidate index stores and queries for one rendition."""

    phash: int
    dhash: int
    # Query side besides the global pHash: this picture transformed (DIHEDRAL codes) and,
    # inside a detected border, trimmed ("trim"). The index joins global and probes...
    probes: tuple[tuple[str, int], ...]
    # ...against the global pHash and these keys of every other rendition: windows of this
    # picture (window_boxes codes) and "trim". The dHash joins only the other dHashes.
    keys: tuple[tuple[str, int], ...]
    # The picture inside a detected uniform border (fractions left, top, right, bottom).
    trim_box: tuple[float, float, float, float] | None = None


def compute_fingerprints(display: Image.Image) -> Fingerprints | None:
    """Return the fingerprints of an oriented display image, None if too small or flat."""
    if min(display.size) < MIN_SIDE:
        return None
    gray = display.convert("L")
    # Flatness on a box-reduced copy: the same answer as the full image, a tenth of the cost.
    mid = _mid(gray)
    mid_pixels = np.asarray(mid, dtype=np.float32)
    if float(mid_pixels.std()) < MIN_STDDEV:
        return None
    # imagehash's reductions (Lanczos to 32x32 and 9x8), from the box-reduced copy: within
    # 0-2 bits of the same reductions from the full image, at a sixth of the cost.
    grid = np.asarray(mid.resize((_HASH_GRID, _HASH_GRID), _LANCZOS), dtype=np.float64)
    low = _low_dct(grid)
    phash = _bits(low)
    dhash_pixels = np.asarray(mid.resize((9, 8), _LANCZOS), dtype=np.int16)
    dhash = _pack(dhash_pixels[:, 1:] > dhash_pixels[:, :-1])
    probe_hashes = _bits_many(np.stack([dihedral_dct(low, code) for code in DIHEDRAL]))
    probes = list(zip(DIHEDRAL, probe_hashes, strict=True))
    boxes = window_boxes(display.width / display.height)
    keys = list(zip(boxes, window_hashes(mid, tuple(boxes.values())), strict=True))
    trim_box = find_border(mid_pixels)
    if trim_box is not None:
        # Found on the reduced copy; placed on the full one (the reduction blurs the edge).
        trim_box = find_border(np.asarray(gray, dtype=np.float32)) or trim_box
        w, h = gray.size
        inset = _inset(trim_box)
        box = (inset[0] * w, inset[1] * h, inset[2] * w, inset[3] * h)
        trimmed = np.asarray(
            gray.resize((_HASH_GRID, _HASH_GRID), _LANCZOS, box=box), dtype=np.float64
        )
        trim_hash = _bits(_low_dct(trimmed))
        probes.append(("trim", trim_hash))
        keys.append(("trim", trim_hash))
    return Fingerprints(phash, dhash, tuple(probes), tuple(keys), trim_box)


def hamming(a: int, b: int) -> int:
    """Return the number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()


def to_hex(value: int) -> str:
    """Return a 64-bit hash as imagehash writes it (16 hex digits)."""
    return f"{value:016x}"


def best_link(a: Fingerprints, b: Fingerprints) -> tuple[int, str]:
    """Return the smallest pHash distance the index can see between two renditions, and its hint.

    The hint reads "<code on a>><code on b>": a's global or probe against b's global or key,
    or, written the same way round, a's key against b's probe. The dHash join ("dhash>dhash")
    counts only when it is strictly closer.
    """
    a_query = (("global", a.phash), *a.probes)
    b_query = (("global", b.phash), *b.probes)
    a_index = (("global", a.phash), *a.keys)
    b_index = (("global", b.phash), *b.keys)
    best = (65, "")
    for code_a, hash_a in a_query:
        for code_b, hash_b in b_index:
            best = min(best, (hamming(hash_a, hash_b), f"{code_a}>{code_b}"))
    for code_b, hash_b in b_query:
        for code_a, hash_a in a_index:
            best = min(best, (hamming(hash_a, hash_b), f"{code_a}>{code_b}"))
    dhash_distance = hamming(a.dhash, b.dhash)
    if dhash_distance < best[0]:
        best = (dhash_distance, "dhash>dhash")
    return best


def window_boxes(aspect: float) -> dict[str, Box]:
    """Return the index-side windows of a picture of this width/height ratio."""
    boxes = dict(WINDOWS)
    if aspect >= _SQUARE_MIN_ASPECT:
        side = _SQUARE / aspect
        boxes["sq85"] = ((1 - side) / 2, (1 - _SQUARE) / 2, (1 + side) / 2, (1 + _SQUARE) / 2)
    elif aspect <= 1 / _SQUARE_MIN_ASPECT:
        side = _SQUARE * aspect
        boxes["sq85"] = ((1 - _SQUARE) / 2, (1 - side) / 2, (1 + _SQUARE) / 2, (1 + side) / 2)
    return boxes


def dihedral_dct(low: np.ndarray, code: str) -> np.ndarray:
    """Return the low-frequency DCT block of the picture transformed by a dihedral code.

    Reversing a DCT-II signal negates its odd coefficients, and transposing the picture
    transposes the block, so all eight transforms come from one 32x32 reduction.
    """
    sign = np.where(np.arange(low.shape[0]) % 2 == 0, 1.0, -1.0)
    if code == "fh":  # columns reversed
        return low * sign[None, :]
    if code == "fv":  # rows reversed
        return low * sign[:, None]
    if code == "r180":
        return low * sign[:, None] * sign[None, :]
    if code == "tp":
        return low.T.copy()
    if code == "r90":  # transpose, then rows reversed
        return low.T * sign[:, None]
    if code == "r270":  # transpose, then columns reversed
        return low.T * sign[None, :]
    if code == "tv":
        return low.T * sign[:, None] * sign[None, :]
    raise ValueError(f"unknown dihedral code {code!r}")


def window_hashes(mid: Image.Image, boxes: tuple[Box, ...]) -> list[int]:
    """Return the pHash of each window (fractions of the picture) of a grayscale image.

    The windows are reduced to 32x32 with a triangle filter as two matrix products: at these
    reductions the 8x8 lowest frequencies come out as Lanczos would give them, and twelve
    windows cost a tenth of twelve Pillow resizes. The 8x32 DCT rows are folded into the
    reduction matrices, so only the 8x8 block of each window is ever computed.
    """
    pixels = np.asarray(mid, dtype=np.float64)
    rows, cols = _window_weights(pixels.shape, boxes)
    count, _, height = rows.shape
    partial = (rows.reshape(count * 8, height) @ pixels).reshape(count, 8, -1)
    return _bits_many(partial @ cols)


@functools.lru_cache(maxsize=256)
def _window_weights(shape: tuple[int, int], boxes: tuple[Box, ...]) -> tuple[np.ndarray, ...]:
    """Return, per window, the 8-row reduction-and-DCT matrices of its rows and columns.

    low = D R P C D^T for the DCT rows D (8x32), the window's row and column reductions R
    (32xh) and C (wx32) and the picture P; returned as D R (8xh) and C D^T (wx8), cached.
    """
    h, w = shape
    array = np.asarray(boxes, dtype=np.float64)
    rows = _DCT_LOW @ _triangle_weights(array[:, 1] * h, array[:, 3] * h, h)
    cols = _triangle_weights(array[:, 0] * w, array[:, 2] * w, w).transpose(0, 2, 1) @ _DCT_LOW.T
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


def _triangle_weights(start: np.ndarray, stop: np.ndarray, size: int) -> np.ndarray:
    """Return, per window, the (32, size) matrix that reduces [start, stop) to 32 samples."""
    scale = np.maximum((stop - start) / _HASH_GRID, 1.0)[:, None, None]
    centres = start[:, None, None] + (np.arange(_HASH_GRID)[None, :, None] + 0.5) * (
        (stop - start)[:, None, None] / _HASH_GRID
    )
    x = np.arange(size)[None, None, :] + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(x - centres) / scale)
    return weights / weights.sum(axis=2, keepdims=True)


def find_border(gray: np.ndarray) -> Box | None:
    """Return the picture's box inside a uniform border or letterbox, None when there is none.

    Each side whose outermost line is one plain colour is trimmed while its rows (columns)
    stay within a small tolerance of that colour. Borders come in opposite pairs of one
    colour (a frame, a letterbox, a pillarbox); a plain sky along one edge is no border.
    """
    h, w = gray.shape
    runs, colours = [], []
    for lines in (gray, gray[::-1], gray.T, gray.T[::-1]):  # top, bottom, left, right
        colour = float(np.median(lines[0]))
        near = np.abs(lines - colour) <= _BORDER_TOLERANCE
        runs.append(_run(near.mean(axis=1) >= _BORDER_SHARE))
        colours.append(colour)
    top, bottom, left, right = runs

    def paired(i: int, j: int, size: int) -> bool:
        return (
            min(runs[i], runs[j]) >= _MIN_BORDER * size
            and abs(colours[i] - colours[j]) <= _BORDER_TOLERANCE
        )

    rows, cols = paired(0, 1, h), paired(2, 3, w)
    if not (rows or cols):
        return None
    top, bottom = (top, bottom) if rows else (0, 0)
    left, right = (left, right) if cols else (0, 0)
    if top + bottom > h * (1 - _MIN_CONTENT) or left + right > w * (1 - _MIN_CONTENT):
        return None
    return (left / w, top / h, (w - right) / w, (h - bottom) / h)


def _inset(box: Box) -> Box:
    """Return a trim box moved inwards on its trimmed sides, clear of the edge's JPEG ringing."""
    left, top, right, bottom = box
    d = _TRIM_INSET
    return (
        left + d if left > 0 else left,
        top + d if top > 0 else top,
        right - d if right < 1 else right,
        bottom - d if bottom < 1 else bottom,
    )


def _run(flags: np.ndarray) -> int:
    """Return how many leading entries are True."""
    off = np.flatnonzero(~flags)
    return int(off[0]) if off.size else int(flags.size)


def _mid(gray: Image.Image) -> Image.Image:
    """Return a box-reduced copy whose long side is about _MID_LONG_SIDE."""
    factor = max(1, max(gray.size) // _MID_LONG_SIDE)
    return gray.reduce(factor) if factor > 1 else gray


def _low_dct(pixels: np.ndarray) -> np.ndarray:
    """Return the 8x8 lowest frequencies of the 2-D DCT-II of 32x32 grids, as imagehash's.

    imagehash takes scipy.fftpack.dct along both axes (type II, unnormalised) and keeps the
    top-left 8x8; two products with the 8x32 cosine matrix give the same numbers without
    computing the other 960, and keep scipy out of the scanner's worker processes.
    """
    return _DCT_LOW @ pixels @ _DCT_LOW.T


def _bits(low: np.ndarray) -> int:
    """Return the pHash bits of a low-frequency DCT block (above its median)."""
    return _pack(low > np.median(low))


def _bits_many(lows: np.ndarray) -> list[int]:
    """Return the pHash bits of a stack of low-frequency DCT blocks."""
    flat = lows.reshape(len(lows), -1)
    packed = np.packbits(flat > np.median(flat, axis=1, keepdims=True), axis=1)
    return [int.from_bytes(row.tobytes(), "big") for row in packed]


def _pack(bits: np.ndarray) -> int:
    """Pack a boolean array row-major, first bit most significant (imagehash's order)."""
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")
