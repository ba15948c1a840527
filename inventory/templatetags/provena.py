"""Small template filters for the inventory pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from inventory.models import Match
from inventory.pairs.relations import relation_label, relation_sentence

register = template.Library()


@register.filter
def humanize_key(key: str) -> str:
    """Return a metadata key as a label: "camera_make" -> "Camera make" (translated when the
    catalogue has the label)."""
    return _(str(key).replace("_", " ").capitalize())


@register.filter
def relation_code(code: str) -> str:
    """Return a relation as the export names it in English, as its label in other languages."""
    if (get_language() or "en").startswith("en"):
        return str(code)
    return relation_label(code)


@register.filter(name="relation_label")
def relation_label_filter(code: str) -> str:
    """Return a relation code as people read it (inventory.pairs.relations)."""
    return relation_label(code)


@register.filter
def match_direction(match: Match) -> str:
    """Return which side of a match derives from which, in words ("" when unknown)."""
    if match.original == "a":
        return relation_sentence(match.relation, "right", "left")
    if match.original == "b":
        return relation_sentence(match.relation, "left", "right")
    return ""


@register.filter
def file_name(path: str) -> str:
    """Return the last part of a '/'-separated path: "web/cafe.jpg" -> "cafe.jpg"."""
    return str(path).rsplit("/", 1)[-1]


# What a scan records (Scan.parameters and Scan.timings), as people read it; unknown keys
# fall back to humanize_key, so a new parameter shows up readable without a change here.
SCAN_LABELS = {
    "workers": gettext_lazy("Worker processes"),
    "batch_size": gettext_lazy("Files per batch (configured)"),
    "effective_batch_size": gettext_lazy("Files per batch (used)"),
    "batches": gettext_lazy("Batches"),
    "max_image_pixels": gettext_lazy("Largest image decoded"),
    "extensions": gettext_lazy("File types read"),
    "runner": gettext_lazy("Batches ran"),
    "walk_seconds": gettext_lazy("Walking the tree"),
    "examine_seconds": gettext_lazy("Examining new and changed files"),
    "matching_seconds": gettext_lazy("Near-duplicate matching"),
    "finish_seconds": gettext_lazy("Finishing (assets, matching, figures)"),
    "total_seconds": gettext_lazy("Total"),
    "matching": gettext_lazy("Matching outcome"),
    "new_renditions": gettext_lazy("New renditions"),
    "not_same": gettext_lazy("Not the same photograph"),
    "unverifiable": gettext_lazy("Could not be verified"),
}
_RUNNERS = {
    "local": gettext_lazy("in this process (a local pool)"),
    "celery": gettext_lazy("on Celery workers"),
}


@register.filter
def scan_label(key: str) -> str:
    """Return the label for a scan parameter or timing key."""
    label = SCAN_LABELS.get(key)
    return str(label) if label is not None else humanize_key(key)


@register.filter
def scan_value(value: object, key: str = "") -> str:
    """Return a scan parameter or timing value as text: seconds with a unit, lists joined,
    big numbers grouped."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key.endswith("_seconds") and isinstance(value, int | float):
        return f"{value:,.3f} s"
    if key == "runner":
        return str(_RUNNERS.get(str(value), str(value)))
    if key == "max_image_pixels" and isinstance(value, int):
        return _("%(pixels)s pixels (%(megapixels)s MP)") % {
            "pixels": f"{value:,}",
            "megapixels": f"{value / 1e6:,.0f}",
        }
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or _("none")
    if value in (None, ""):
        return "—"
    return str(value)
