"""The managers' remediation dashboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from governance.charts import Bar, hbar_chart
from governance.formatting import si_bytes
from governance.http import AuthenticatedRequest
from governance.remediation import charts
from governance.remediation.models import RemediationTask
from governance.remediation.selectors.dashboard import (
    ageing,
    burn_down,
    progress_by_department,
    risk_by_source,
    savings,
    status_counts,
)
from governance.remediation.selectors.tasks import (
    tasks_overdue,
    tasks_visible_to,
    today,
)

OVERDUE_SHOWN = 50


def _svg(markup: str) -> str:
    # The chart modules escape every label they draw.
    return mark_safe(markup)  # noqa: S308


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """Show progress by department and status, ageing, burn-down, overdue work, risk by source
    and the storage and money the removals reclaim."""
    day = today()
    tasks = tasks_visible_to(user=request.user)
    progress = progress_by_department(tasks=tasks, day=day)
    ages = ageing(tasks=tasks, day=day)
    points = burn_down(tasks=tasks, day=day)
    money = savings(tasks=tasks)
    overdue = tasks_overdue(tasks=tasks, day=day)
    counts = status_counts(tasks=tasks)
    total = sum(counts.values())
    closed = sum(counts[s] for s in RemediationTask.CLOSED)
    return render(
        request,
        "remediation/dashboard.html",
        {
            "day": day,
            "counts": counts,
            "total": total,
            "outstanding": sum(counts[s] for s in RemediationTask.OUTSTANDING),
            "percent_closed": round(100 * closed / total) if total else 0,
            "overdue_count": overdue.count(),
            "overdue": overdue.order_by("due_date", "severity", "pk")[:OVERDUE_SHOWN],
            "progress": progress,
            "ages": ages,
            "risks": risk_by_source(tasks=tasks, day=day),
            "money": money,
            "burn_down": points,
            "status_chart": _svg(charts.status_by_department(progress)),
            "burn_down_chart": _svg(charts.burn_down(points)),
            "ageing_chart": _svg(
                hbar_chart(
                    [Bar(label, count) for label, count in ages.items()],
                    value_format=lambda v: f"{int(v):,} task{'' if int(v) == 1 else 's'}",
                    label_width=110,
                )
            ),
            "savings_chart": _svg(
                hbar_chart(
                    [
                        Bar(s.name, s.reclaimable_bytes + s.reclaimed_bytes, s.reclaimed_bytes)
                        for s in money.by_department
                    ],
                    value_format=si_bytes,
                    legend=("identified for removal", "reclaimed"),
                    label_width=110,
                )
            ),
            "statuses": RemediationTask.Status.choices,
            "cost_per_gb_month": settings.PROVENA_STORAGE_COST_PER_GB_MONTH,
            "licence_fee": settings.PROVENA_LICENCE_FEE_PER_FILE_YEAR,
        },
    )
