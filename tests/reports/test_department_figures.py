"""The dashboard and the reports roll per-source figures up by department the same way
(inventory.selectors.departments): one roll-up, so the two never drift."""

from __future__ import annotations

from django.test import Client

from inventory.models import Copy, Source
from reports.selectors.figures import report_data
from reports.selectors.scope import ReportScope

# The figures both define alike. duplicate_copies is not among them: the dashboard counts the
# byte and pixel copies beyond the one kept, a report every member of a group but its master.
SHARED = ("copies", "bytes", "reclaimable_bytes", "problems")


def test_the_dashboard_and_a_report_show_the_same_figures_per_department(
    client: Client, role_users, scanned_archive
) -> None:
    client.force_login(role_users["auditor"])

    shown = client.get("/").context["departments"]
    report = report_data(sources=Source.objects.all(), scope=ReportScope())

    def by_code(rows: list[dict]) -> dict[str, dict[str, int]]:
        return {r["department"]: {name: r[name] for name in SHARED} for r in rows}

    assert by_code(shown) == by_code(report.departments)
    assert set(by_code(shown)) == {"LCSD", "NEWS"}
    # Real figures, not zeros that agree: every present file counted, and some bytes to reclaim.
    present = Copy.objects.filter(state=Copy.State.PRESENT)
    assert sum(r["copies"] for r in shown) == present.count()
    assert sum(r["bytes"] for r in shown) == sum(present.values_list("size", flat=True))
    assert all(r["reclaimable_bytes"] > 0 for r in shown)
    assert sum(r["problems"] for r in shown) == present.exclude(problem="").count() > 0
