"""Carry a box from one rendition onto another through their registration. Pure: no Django.

A verification (inventory.pairs.verification) records how the second picture it was given lies
in the first: the first is turned by a dihedral ``transform`` code, and the second's frame in
it is ``frame_of_b_in_a`` (left, top, right, bottom as fractions of the turned first picture;
beyond 0..1 where the second shows more). Both pictures are upright. A box in one picture's
upright pixels maps onto the other exactly: dihedral turns, scale and shift keep boxes
axis-aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Box = tuple[int, int, int, int]  # left, top, width, height in upright pixels
Size = tuple[int, int]
_Point = tuple[float, float]

# Where a point (u, v), as fractions of the picture, lands after each of Pillow's transposes.
_TURN: dict[str, Callable[[float, float], _Point]] = {
    "id": lambda u, v: (u, v),
    "r90": lambda u, v: (v, 1 - u),  # ROTATE_90 turns counter-clockwise
    "r180": lambda u, v: (1 - u, 1 - v),
    "r270": lambda u, v: (1 - v, u),
    "fh": lambda u, v: (1 - u, v),
    "fv": lambda u, v: (u, 1 - v),
    "tp": lambda u, v: (v, u),
    "tv": lambda u, v: (1 - v, 1 - u),
}
_INVERSE = {"r90": "r270", "r270": "r90"}
# A mapped box grows by this share of its size on each side: the registration is measured on
# thumbnails, so a box carried onto a larger picture can be off by a few of its pixels.
SLACK = 0.1


@dataclass(frozen=True, slots=True)
class Placement:
    """How the second picture of a verified pair lies in the first (see the module doc)."""

    code: str
    frame: tuple[float, float, float, float]

    @classmethod
    def from_evidence(cls, evidence: Mapping[str, Any]) -> Placement | None:
        """Return the placement a verification recorded, or None when it is unusable."""
        code = evidence.get("transform") or "id"
        frame = evidence.get("frame_of_b_in_a")
        if code not in _TURN or not isinstance(frame, list | tuple) or len(frame) != 4:
            return None
        if any(not isinstance(v, int | float) for v in frame):
            return None
        left, top, right, bottom = (float(v) for v in frame)
        if right - left <= 1e-6 or bottom - top <= 1e-6:
            return None
        return cls(code, (left, top, right, bottom))

    def forward(self, u: float, v: float) -> _Point:
        """Map a point of the first picture (fractions) onto the second."""
        x, y = _TURN[self.code](u, v)
        left, top, right, bottom = self.frame
        return (x - left) / (right - left), (y - top) / (bottom - top)

    def backward(self, u: float, v: float) -> _Point:
        """Map a point of the second picture (fractions) onto the first."""
        left, top, right, bottom = self.frame
        x, y = left + u * (right - left), top + v * (bottom - top)
        return _TURN[_INVERSE.get(self.code, self.code)](x, y)

    def turned_aspect(self, first: Size) -> float:
        """Return the second picture's aspect ratio this placement implies, given the first."""
        width, height = (first[1], first[0]) if self.code in ("r90", "r270", "tp", "tv") else first
        left, top, right, bottom = self.frame
        return (right - left) * width / ((bottom - top) * height)


def map_box(
    box: Box,
    *,
    placement: Placement,
    forward: bool,
    from_size: Size,
    to_size: Size,
    slack: float = SLACK,
) -> Box | None:
    """Return the box carried onto the other picture, clipped to it; None when it falls outside."""
    left, top, width, height = box
    fw, fh = from_size
    step = placement.forward if forward else placement.backward
    corners = [step(x / fw, y / fh) for x in (left, left + width) for y in (top, top + height)]
    us, vs = [c[0] for c in corners], [c[1] for c in corners]
    tw, th = to_size
    x0, x1 = min(us) * tw, max(us) * tw
    y0, y1 = min(vs) * th, max(vs) * th
    dx, dy = (x1 - x0) * slack, (y1 - y0) * slack
    x0, y0 = max(0.0, x0 - dx), max(0.0, y0 - dy)
    x1, y1 = min(float(tw), x1 + dx), min(float(th), y1 + dy)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))
