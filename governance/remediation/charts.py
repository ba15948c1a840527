"""Server-side SVG charts for the remediation dashboard: stacked status bars and a burn-down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from governance.remediation.models import RemediationTask
from governance.remediation.selectors.dashboard import DepartmentProgress

TEXT = "#1d2733"
GRID = "#dde2ea"
LINE = "#1f4e79"
FONT = 'font-family="system-ui, Liberation Sans, DejaVu Sans, sans-serif" font-size="12"'
# One colour per status, distinct in greyscale too: work to do warm, closed work cool.
STATUS_COLOURS = {
    RemediationTask.Status.OPEN: "#c55a11",
    RemediationTask.Status.IN_PROGRESS: "#e3a21a",
    RemediationTask.Status.DONE: "#5b9bd5",
    RemediationTask.Status.VERIFIED: "#1e7b45",
    RemediationTask.Status.WAIVED: "#9aa5b1",
}
_LABELS = dict(RemediationTask.Status.choices)


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT} role="img" aria-label="{escape(label)}" '
        'style="max-width:100%;height:auto">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def status_by_department(rows: Sequence[DepartmentProgress], *, width: int = 640) -> str:
    """Return stacked bars: each department's tasks by status, with the share closed."""
    label_width, value_width, bar, gap, top = 80, 150, 20, 10, 30
    plot = width - label_width - value_width
    height = top + len(rows) * (bar + gap) + 4
    largest = max((row.total for row in rows), default=0) or 1
    body = []
    x: float = label_width
    for status, colour in STATUS_COLOURS.items():
        body.append(
            f'<rect x="{x}" y="6" width="11" height="11" fill="{colour}"/>'
            f'<text x="{x + 15}" y="16" fill="{TEXT}">{escape(str(_LABELS[status]))}</text>'
        )
        x += 18 + 8 * len(_LABELS[status]) + 10
    for index, row in enumerate(rows):
        y = top + index * (bar + gap)
        body.append(
            f'<text x="{label_width - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" '
            f'fill="{TEXT}">{escape(row.department)}</text>'
        )
        x = float(label_width)
        for status, colour in STATUS_COLOURS.items():
            count = row.count(status)
            if not count:
                continue
            span = count / largest * plot
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{span:.1f}" height="{bar}" fill="{colour}">'
                f"<title>{escape(row.department)}: {count} "
                f"{escape(str(_LABELS[status]))}</title></rect>"
            )
            x += span
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + bar * 0.7:.1f}" fill="{TEXT}">'
            f"{row.total} · {row.percent_closed}% closed</text>"
        )
    return _svg(width, height, "Tasks by department and status", body)


def burn_down(points: Sequence[tuple[date, int]], *, width: int = 640, height: int = 220) -> str:
    """Return a line chart of the tasks not yet closed at the end of each day."""
    left, right, top, bottom = 44, 16, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((value for _, value in points), default=0)
    scale = max(peak, 1)
    step = plot_w / max(len(points) - 1, 1)
    body = []
    for fraction in (0, 0.5, 1):
        value = round(scale * fraction)
        y = top + plot_h - value / scale * plot_h
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{value}</text>'
        )
    coords = [
        (left + i * step, top + plot_h - value / scale * plot_h)
        for i, (_, value) in enumerate(points)
    ]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
        for (x, y), (day, value) in zip(coords, points, strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{LINE}">'
                f"<title>{day.isoformat()}: {value} not closed</title></circle>"
            )
        marks = {0, len(points) // 2, len(points) - 1}
        for i in sorted(marks):
            x = coords[i][0]
            anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
            body.append(
                f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" fill="{TEXT}">'
                f"{points[i][0].strftime('%d %b')}</text>"
            )
    return _svg(width, height, "Tasks not yet verified or waived, by day", body)
