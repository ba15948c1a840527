"""Roll per-source figures up by department: one roll-up for the dashboard and the reports.

The per-source figures come from their own selectors (inventory.selectors.sources for the
pages, reports.selectors.figures for a report's scope and period), both counting reclaimable
bytes with inventory.selectors.reclaimable; this module only adds them up, one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# The department code shown for a source registered without a department.
NO_DEPARTMENT = "(none)"
# The figures the dashboard rolls up (fields of inventory.selectors.sources.SourceFigures).
SOURCE_FIGURES = (
    "copies",
    "bytes",
    "duplicate_copies",
    "near_duplicate_copies",
    "reclaimable_bytes",
    "problems",
)


class SourceTotals(Protocol):
    """One source's figures: its department's code, and the figures named as attributes."""

    @property
    def department_code(self) -> str: ...


@dataclass(slots=True)
class DepartmentFigures:
    """The sum of one department's per-source figures."""

    department: str
    sources: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """Return the row pages and reports print: department, sources, then each figure."""
        return {"department": self.department, "sources": self.sources, **self.totals}


def figures_by_department(
    *, rows: Iterable[SourceTotals], figures: Sequence[str] = SOURCE_FIGURES
) -> list[dict[str, Any]]:
    """Return the named figures summed by department, one row per department, by code."""
    departments: dict[str, DepartmentFigures] = {}
    for row in rows:
        code = row.department_code
        department = departments.get(code)
        if department is None:
            department = departments[code] = DepartmentFigures(code, 0, dict.fromkeys(figures, 0))
        department.sources += 1
        for figure in figures:
            department.totals[figure] += getattr(row, figure)
    return [departments[code].as_row() for code in sorted(departments)]
