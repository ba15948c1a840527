"""Show user-supplied names (paths, file names, titles) so they cannot rearrange a page.

A file name may hold bidirectional controls: U+202E (right-to-left override) makes
"invoice\u202egpj.exe" read as "invoiceexe.jpg" and reverses the text after it. Every
control character is shown as its code point, [U+202E], and `isolate` wraps a name that
holds right-to-left text in <bdi>, so its letters cannot reorder the text around it. A name
of left-to-right letters, digits and punctuation cannot reorder a left-to-right page, so it
is written as it is (and the stylesheets isolate paths and <bdi> alike).
Loaded for every template (settings.TEMPLATES builtins).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

from governance.vocabulary import code_label as _code_label

register = template.Library()


@register.filter
def code_label(code: Any) -> str:
    """Return a state, tier or type code as people read it (governance/vocabulary.py)."""
    return _code_label(code)


# The Unicode bidirectional formatting characters (UAX #9): embeddings, overrides, isolates
# and the implicit marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_HIDDEN_CATEGORIES = ("Cc", "Zl", "Zp")  # C0/C1 controls, line and paragraph separators


# Bidirectional classes that can move text on a left-to-right page: right-to-left letters,
# Arabic numbers, and the controls.
_REORDERING = frozenset(
    {"R", "AL", "AN", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
)


def _hidden(char: str) -> bool:
    return char in BIDI_CONTROLS or unicodedata.category(char) in _HIDDEN_CATEGORIES


def visible_text(text: str) -> str:
    """Return text with every control character replaced by its code point, [U+202E]."""
    if not any(_hidden(char) for char in text):
        return text
    return "".join(f"[U+{ord(char):04X}]" if _hidden(char) else char for char in text)


@register.filter(is_safe=True)
def visible(value: Any) -> str:
    """Show control characters as code points (for attributes, options and titles)."""
    if value is None:
        return ""
    shown = visible_text(str(value))
    return mark_safe(shown) if isinstance(value, SafeData) else shown  # noqa: S308


@register.filter
def isolate(value: Any) -> str:
    """Show a name isolated from the text around it (<bdi>), control characters visible."""
    if value is None or value == "":
        return ""
    escaped = str(conditional_escape(value))
    shown = visible_text(escaped)
    if shown != escaped or any(unicodedata.bidirectional(c) in _REORDERING for c in escaped):
        shown = f"<bdi>{shown}</bdi>"
    return mark_safe(shown)  # noqa: S308 - escaped above
