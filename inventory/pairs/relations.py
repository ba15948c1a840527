"""The words people read for how one rendition relates to another.

The codes (Match.RELATIONS, the findings export's `relation`) stay as they are; pages show
these labels. A crop is another work made from the photograph: "a crop of", never "a copy".
"""

from __future__ import annotations

RELATION_LABELS = {
    "master": "master",
    "exact_copy": "exact copy",
    "same_pixels": "same-pixel copy (metadata edited)",
    "reencoded": "re-encoded copy",
    "format_converted": "format-converted copy",
    "resized": "resized copy",
    "cropped": "crop",
    "rotated": "rotated copy",
    "mirrored": "mirrored copy",
    "colour_adjusted": "colour-adjusted copy",
    "grayscale": "black-and-white copy",
    "watermarked": "watermarked copy",
    "bordered": "bordered copy",
    "blurred": "blurred copy",
    "edited": "edited copy",
    "similar": "similar image",
}


def relation_label(code: str) -> str:
    """Return the label people read for a relation code (the code itself if unknown)."""
    return RELATION_LABELS.get(code, str(code).replace("_", " "))


def relation_sentence(code: str, derivative: str, original: str) -> str:
    """Return e.g. "the right is a crop of the left" (derivative and original name the sides)."""
    label = relation_label(code)
    article = "an" if label[:1] in "aeiou" else "a"
    return f"the {derivative} is {article} {label} of the {original}"
