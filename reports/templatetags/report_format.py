"""Template filters for report pages and PDFs."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from governance import formatting

register = template.Library()


@register.filter
def si_bytes(value: float | int | None) -> str:
    """Format a byte count in decimal units (1 GB = 10^9 bytes)."""
    return formatting.si_bytes(value)


@register.filter
def money(value: float | int | None) -> str:
    """Format an amount in the configured currency."""
    return formatting.money(value, settings.PROVENA_COST_CURRENCY)


@register.filter
def count(value: int | None) -> str:
    """Format a whole number with thousands separators."""
    return formatting.count(value)


@register.filter
def percent(part: float | int | None, whole: float | int | None) -> str:
    """Return part as a percentage of whole, one decimal."""
    if not whole or part is None:
        return "0.0%"
    return f"{part / whole * 100:.1f}%"


@register.filter
def get_item(mapping: dict | None, key: str) -> Any:
    """Look a key up in a dict (template access to keys with dashes or variables)."""
    return mapping.get(key) if mapping else None


@register.filter
def css_string(value: object) -> str:
    """Return text quoted as a CSS string (for @page content), safe inside <style>."""
    text = str(value)
    for char in '\\"<>&':
        text = text.replace(char, f"\\{ord(char):x} ")
    text = " ".join(text.split())
    return mark_safe(f'"{text}"')
