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
from typing import Any

from PIL import Image

from inventory.imaging.fingerprints import DIHEDRAL
from inventory.pairs.comparison import FULL, Comparison, box_area, compare, to_rgb
from inventory.pairs.registration import Registration, register
from inventory.pairs.relations import MATCH_RELATIONS

RELATIONS = MATCH_RELATIONS  # what a verdict may say; defined in inventory/pairs/relations.py
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
_WATERMARK_DETAIL = 2.0  # ...where one has this much more detail (watermarks 3.6 and up)
_OVERLAY = 0.6  # ...or where the difference is one-signed: a stamp blended over the picture
_EDIT_RESIDUAL = 4.0  # ...or a residual this high, without added detail: another edit
# Similar enough to show a person: much of the structure agrees, not enough to verify.
_POSSIBLE_MEDIAN = 0.6
_POSSIBLE_AGREE = 0.35
# Fewer informative blocks than this: too little structure to verify anything.
_MIN_INFORMATIVE = 4
# Evidence must cover most of the smaller picture: at least this share of its blocks hold
# content (the calibration photographs: 0.65-1.0, a low-contrast moon and a motion-blurred
# clock the lowest; a small subject on a plain backdrop: its own area).
_COVERAGE = 0.5
# A copy lies inside its source (a crop) or holds all of it (a border): one picture at least
# this much inside the overlap. Two overlapping frames of a scene, or a camera moved between
# two exposures, are two photographs.
_CONTAINED = 0.96
_CROPPED = 0.93  # overlap share below which the rest was cut away
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
    a_rgb, b_rgb = to_rgb(a), to_rgb(b)
    found = register(a_rgb.convert("L"), b_rgb.convert("L"), hint)
    if found is None:
        return Verdict(None, None, 0.0, None, {"hint": hint, "reason": "no registration"})
    reg, a_pic, b_pic = found
    a_t = a_rgb.transpose(DIHEDRAL[reg.code]) if reg.code != "id" else a_rgb
    comparison = compare(a_pic, b_pic, a_t, b_rgb, reg)
    if comparison is None:
        return Verdict(None, None, 0.0, None, {"hint": hint, "reason": "overlap too small"})
    return _decide(reg, comparison, a_info, b_info, hint)


def _decide(
    reg: Registration,
    c: Comparison,
    a_info: RenditionInfo,
    b_info: RenditionInfo,
    hint: str | None,
) -> Verdict:
    """Turn the registration and comparison into tier, relation, score and direction."""
    enough_blocks = c.informative >= _MIN_INFORMATIVE
    # Agreement that can verify: on content over most of the picture, one inside the other.
    grounded = c.coverage >= _COVERAGE and max(c.share_a, c.share_b) >= _CONTAINED
    whole = (
        enough_blocks
        and grounded
        and c.agree >= _PROBABLE_MATCHED
        and c.matched >= _PROBABLE_MATCHED
        and c.median >= _PROBABLE_MEDIAN
        and c.global_ncc >= _PROBABLE_GLOBAL
    )
    # A local change (a stamp, a retouch): the failing blocks lie together, and outside
    # them the pictures agree as closely as copies do. With a crop or a border as well, the
    # region that differs must lie at the margin (where stamps and credit lines sit and a
    # reframed registration is least sure) and the blocks must agree as a whole picture's
    # do: a region that differs in the middle, inside one outline, is the subject itself,
    # which is what two different portraits on one backdrop show. That goes to a person.
    reframed = min(c.share_a, c.share_b) < _CROPPED
    local = (
        not whole
        and grounded
        and (
            not reframed
            or (
                c.median >= _PROBABLE_MEDIAN
                and c.failed_box is not None
                and _at_margin(c.failed_box)
            )
        )
        and c.failed_box is not None
        and box_area(c.failed_box) <= _LOCAL_MAX_AREA
        and c.outside >= _MIN_INFORMATIVE
        and c.outside_median >= _LOCAL_EDIT_MEDIAN
    )
    score = max(0.0, min(1.0, 0.5 * c.agree + 0.5 * max(c.median, 0.0)))
    evidence = _evidence(reg, c, hint)
    resolution = _resolution(reg, c, a_info, b_info)
    evidence["resolution_a_per_b"] = None if resolution is None else round(resolution, 4)
    if whole or local:
        evidence["agreement"] = "whole" if whole else "local"
        relation, original = _label(reg, c, a_info, b_info, local)
        return Verdict("probable", relation, round(score, 4), original, evidence)
    if enough_blocks and c.median >= _POSSIBLE_MEDIAN and c.agree >= _POSSIBLE_AGREE:
        return Verdict("possible", "similar", round(score, 4), None, evidence)
    return Verdict(None, None, round(score, 4), None, evidence)


_LOSSLESS = frozenset({"PNG", "TIFF", "BMP"})


def _at_margin(box: tuple[float, float, float, float]) -> bool:
    """Whether a box (left, top, right, bottom as shares of the overlap) touches its edge."""
    left, top, right, bottom = box
    return left <= 0.0 or top <= 0.0 or right >= 1.0 or bottom >= 1.0


def _label(
    reg: Registration,
    c: Comparison,
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
    if c.share_b >= FULL and c.share_a < _CROPPED:
        found.append("bordered" if c.a_border else "cropped")
        votes += -4 if c.a_border else 4
    elif c.share_a >= FULL and c.share_b < _CROPPED:
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
        and box_area(c.outlier_box) <= _LOCAL_MAX_AREA
    )
    # Detail gained or lost where the pictures differ, beyond what the whole picture lost
    # (a blurred copy loses most where the detail was: that is no watermark).
    stroke = c.outlier_detail / max(c.detail, 1e-3)
    # A mark is new structure: its residual stands out as another edit's does. Detail lost
    # in the one sharp region of a soft picture (a blur) or a tone curve that clipped one
    # bright region (a brightness edit) changes a region without adding anything to it.
    marked = compact and c.residual_top[0] >= _EDIT_RESIDUAL
    if marked and (max(stroke, 1 / stroke) >= _WATERMARK_DETAIL or c.overlay >= _OVERLAY):
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
    reg: Registration, c: Comparison, a_info: RenditionInfo, b_info: RenditionInfo
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


def _evidence(reg: Registration, c: Comparison, hint: str | None) -> dict[str, Any]:
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
            "coverage": r(c.coverage),
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


def is_weak(relation: str | None, evidence: dict[str, Any] | None) -> bool:
    """Return whether a probable verdict is a weak link (inventory.pairs.placement): it held only by
    the local-change rule, or it names no change but "edited".

    Verdicts recorded before the rule was stored in the evidence are judged by their block
    statistics against today's whole-picture thresholds.
    """
    if relation == "edited":
        return True
    evidence = evidence or {}
    agreement = evidence.get("agreement")
    if agreement is not None:
        return agreement != "whole"
    blocks = evidence.get("blocks") or {}
    try:
        return not (
            blocks["informative"] >= _MIN_INFORMATIVE
            and blocks["agree"] >= _PROBABLE_MATCHED
            and blocks["matched"] >= _PROBABLE_MATCHED
            and blocks["median_ncc"] >= _PROBABLE_MEDIAN
            and blocks["global_ncc"] >= _PROBABLE_GLOBAL
        )
    except (KeyError, TypeError):
        return False  # no block statistics: a person's or the scanner's link
