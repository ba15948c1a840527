"""Small template filters for the inventory pages."""

from __future__ import annotations

from django import template

from inventory.models import Match
from inventory.pairs.relations import relation_label, relation_sentence

register = template.Library()


@register.filter
def humanize_key(key: str) -> str:
    """Return a metadata key as a label: "camera_make" -> "Camera make"."""
    return str(key).replace("_", " ").capitalize()


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
    "workers": "Worker processes",
    "batch_size": "Files per batch (configured)",
    "effective_batch_size": "Files per batch (used)",
    "batches": "Batches",
    "max_image_pixels": "Largest image decoded",
    "extensions": "File types read",
    "runner": "Batches ran",
    "walk_seconds": "Walking the tree",
    "examine_seconds": "Examining new and changed files",
    "matching_seconds": "Near-duplicate matching",
    "finish_seconds": "Finishing (assets, matching, figures)",
    "total_seconds": "Total",
    "matching": "Matching outcome",
    "new_renditions": "New renditions",
    "not_same": "Not the same photograph",
    "unverifiable": "Could not be verified",
}
_RUNNERS = {"local": "in this process (a local pool)", "celery": "on Celery workers"}


@register.filter
def scan_label(key: str) -> str:
    """Return the label for a scan parameter or timing key."""
    return SCAN_LABELS.get(key, humanize_key(key))


@register.filter
def scan_value(value: object, key: str = "") -> str:
    """Return a scan parameter or timing value as text: seconds with a unit, lists joined,
    big numbers grouped."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_seconds") and isinstance(value, int | float):
        return f"{value:,.3f} s"
    if key == "runner":
        return _RUNNERS.get(str(value), str(value))
    if key == "max_image_pixels" and isinstance(value, int):
        return f"{value:,} pixels ({value / 1e6:,.0f} MP)"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    if value in (None, ""):
        return "—"
    return str(value)
