"""Template filters for the audit log: an event's detail as one short line, and in full."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

SUMMARY_KEYS = 3
SUMMARY_VALUE_CHARS = 32


def _text(value: Any) -> str:
    """Return a detail value as people read it: lists comma-separated, dicts as key: value."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items()) or "—"
    return str(value)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter
def detail_text(value: Any) -> str:
    """Return one detail value as text (lists comma-separated, mappings as key: value)."""
    return _text(value)


@register.filter
def detail_summary(detail: dict | None) -> str:
    """Return the first few fields of an event's detail on one line, each value shortened."""
    if not detail:
        return "—"
    # PostgreSQL's jsonb keeps keys in its own order (shortest first), SQLite in insertion
    # order: sort them so the line reads the same on both.
    parts = [
        f"{key}: {_short(_text(detail[key]), SUMMARY_VALUE_CHARS)}"
        for key in sorted(detail)[:SUMMARY_KEYS]
    ]
    more = len(detail) - SUMMARY_KEYS
    return " · ".join(parts) + (f" · {more} more" if more > 0 else "")


@register.filter
def detail_is_long(detail: dict | None) -> bool:
    """Return whether the one-line summary leaves part of the detail out."""
    if not detail:
        return False
    if len(detail) > SUMMARY_KEYS:
        return True
    return any(len(_text(value)) > SUMMARY_VALUE_CHARS for value in detail.values())
