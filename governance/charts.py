"""Server-side SVG bar charts for report PDFs: no JavaScript, no plotting library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from governance.formatting import si_bytes

# Colours that stay distinct in greyscale print.
PRIMARY = "#1f4e79"
ACCENT = "#c55a11"
MUTED = "#bcc6d2"
TEXT = "#1d2733"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: a label, its total and the highlighted part of it (drawn over the total)."""

    label: str
    value: float
    highlight: float = 0.0


def _clip(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def hbar_chart(
    bars: Sequence[Bar],
    *,
    value_format: Callable[[float], str] = si_bytes,
    legend: tuple[str, str] | None = None,
    width: int = 640,
    bar_height: int = 18,
    gap: int = 8,
    label_width: int = 190,
) -> str:
    """Return an SVG horizontal bar chart; the highlight of each bar is drawn in the accent."""
    value_width = 150
    plot = width - label_width - value_width - 10
    top = 26 if legend else 4
    height = top + len(bars) * (bar_height + gap) + 4
    largest = max((bar.value for bar in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Liberation Sans, DejaVu Sans, sans-serif" '
        f'font-size="11" role="img">'
    ]
    if legend:
        parts.append(
            f'<rect x="{label_width}" y="4" width="12" height="12" fill="{MUTED}"/>'
            f'<text x="{label_width + 17}" y="14" fill="{TEXT}">{escape(legend[0])}</text>'
            f'<rect x="{label_width + 170}" y="4" width="12" height="12" fill="{ACCENT}"/>'
            f'<text x="{label_width + 187}" y="14" fill="{TEXT}">{escape(legend[1])}</text>'
        )
    for index, bar in enumerate(bars):
        y = top + index * (bar_height + gap)
        full = max(bar.value / largest * plot, 1 if bar.value else 0)
        part = min(bar.highlight / largest * plot, full) if bar.highlight else 0
        base_colour = MUTED if legend else PRIMARY
        text_y = y + bar_height * 0.72
        parts.append(
            f'<text x="{label_width - 8}" y="{text_y:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_clip(bar.label))}</text>"
            f'<rect x="{label_width}" y="{y}" width="{full:.1f}" height="{bar_height}" '
            f'fill="{base_colour}"/>'
        )
        if part:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{max(part, 1):.1f}" '
                f'height="{bar_height}" fill="{ACCENT}"/>'
            )
        shown = value_format(bar.value)
        if legend:
            shown = f"{value_format(bar.highlight)} of {shown}"
        parts.append(
            f'<text x="{label_width + full + 6:.1f}" y="{text_y:.1f}" fill="{TEXT}">'
            f"{escape(shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
