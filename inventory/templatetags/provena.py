"""Small template filters for the inventory pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def humanize_key(key: str) -> str:
    """Return a metadata key as a label: "camera_make" -> "Camera make"."""
    return str(key).replace("_", " ").capitalize()
