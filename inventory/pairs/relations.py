"""The one vocabulary of relations: how one copy or rendition derives from another.

Each code (stored in Match.relation and the findings export's `relation`) is defined here
once, with the best tier a pair with that relation reaches, the label people read and a
one-line explanation; the model, the verifier, the review pages and the templates derive
from it. A crop is another work made from the photograph: "a crop of", never "a copy".

Labels are lazy translations: importing this module needs only Django's translation
helpers, and a label becomes text only when shown (in a request, a report, a command).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True, slots=True)
class Relation:
    """One relation code, its tier, and the words people read for it."""

    code: str
    tier: str  # "certain", "probable" or "possible": the best a pair with it reaches
    label: Promise
    explanation: Promise


# Order matters: the review pages list the match relations in this order, and Match.RELATIONS
# keeps the order it had before it was derived from here.
RELATIONS: tuple[Relation, ...] = (
    Relation("exact_copy", "certain", _("exact copy"), _("The same bytes: an identical file.")),
    Relation(
        "same_pixels",
        "certain",
        _("same-pixel copy (metadata edited)"),
        _("The same decoded pixels; only metadata such as captions or EXIF differs."),
    ),
    Relation(
        "reencoded",
        "probable",
        _("re-encoded copy"),
        _("The same picture saved again in the same format, at another quality."),
    ),
    Relation(
        "format_converted",
        "probable",
        _("format-converted copy"),
        _("The same picture saved in another file format (PNG, TIFF, WebP, ...)."),
    ),
    Relation(
        "resized", "probable", _("resized copy"), _("The same picture at another pixel size.")
    ),
    Relation(
        "cropped", "probable", _("crop"), _("A part of the picture, cut out of the original.")
    ),
    Relation(
        "rotated", "probable", _("rotated copy"), _("The picture turned by a quarter or a half.")
    ),
    Relation("mirrored", "probable", _("mirrored copy"), _("The picture flipped left to right.")),
    Relation(
        "colour_adjusted",
        "probable",
        _("colour-adjusted copy"),
        _("The same picture with brightness, contrast or colour changed."),
    ),
    Relation(
        "grayscale",
        "probable",
        _("black-and-white copy"),
        _("The same picture converted to shades of grey."),
    ),
    Relation(
        "watermarked",
        "probable",
        _("watermarked copy"),
        _("The same picture with a mark or text laid over part of it."),
    ),
    Relation(
        "bordered",
        "probable",
        _("bordered copy"),
        _("The whole picture with a border or padding added around it."),
    ),
    Relation("blurred", "probable", _("blurred copy"), _("The same picture softened or blurred.")),
    Relation(
        "edited",
        "probable",
        _("edited copy"),
        _("The same photograph with a local edit (a retouch), or joined to it by a person."),
    ),
    Relation(
        "similar",
        "possible",
        _("similar image"),
        _("Much of the structure agrees, not enough to verify: a person decides."),
    ),
)
BY_CODE: dict[str, Relation] = {relation.code: relation for relation in RELATIONS}
# Between copies of one rendition (decided by hashes), and between two renditions (a Match).
COPY_RELATIONS: tuple[str, ...] = tuple(r.code for r in RELATIONS if r.tier == "certain")
MATCH_RELATIONS: tuple[str, ...] = tuple(r.code for r in RELATIONS if r.tier != "certain")

# The kept copy of a group is not related to anything; the findings call its role "master".
_MASTER_LABEL = _("master")


def relation_label(code: str) -> str:
    """Return the label people read for a relation code (the code itself if unknown)."""
    if code == "master":
        return str(_MASTER_LABEL)
    relation = BY_CODE.get(code)
    return str(relation.label) if relation else str(code).replace("_", " ")


def relation_explanation(code: str) -> str:
    """Return the one-line explanation of a relation code ("" if unknown)."""
    relation = BY_CODE.get(code)
    return str(relation.explanation) if relation else ""


def relation_sentence(code: str, derivative: str, original: str) -> str:
    """Return e.g. "the right is a crop of the left" (derivative and original name the sides)."""
    label = relation_label(code)
    sides = {
        "derivative": SIDES.get(derivative, derivative),
        "original": SIDES.get(original, original),
    }
    # Two sentences rather than an article placeholder: other languages have no article.
    if label[:1] in "aeiou":
        return gettext("the %(derivative)s is an %(label)s of the %(original)s") % {
            **sides,
            "label": label,
        }
    return gettext("the %(derivative)s is a %(label)s of the %(original)s") % {
        **sides,
        "label": label,
    }


SIDES = {"left": _("left"), "right": _("right")}
