"""The dashboard page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render

from governance.http import AuthenticatedRequest
from inventory.models import Scan
from inventory.selectors.departments import SOURCE_FIGURES, figures_by_department
from inventory.selectors.sources import figures_by_source
from inventory.selectors.visibility import sources_visible_to


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """Show counts, bytes and reclaimable bytes per source and per department."""
    sources = sources_visible_to(user=request.user)
    figures = figures_by_source(sources=sources)
    totals = {
        "sources": len(figures),
        "copies": sum(f.copies for f in figures),
        "bytes": sum(f.bytes for f in figures),
        "duplicate_copies": sum(f.duplicate_copies for f in figures),
        "near_duplicate_copies": sum(f.near_duplicate_copies for f in figures),
        "reclaimable_bytes": sum(f.reclaimable_bytes for f in figures),
        "problems": sum(f.problems for f in figures),
    }
    recent_scans = Scan.objects.filter(source__in=sources).select_related("source")[:8]
    return render(
        request,
        "inventory/dashboard.html",
        {
            "figures": figures,
            "departments": figures_by_department(rows=figures, figures=SOURCE_FIGURES),
            "totals": totals,
            "recent_scans": recent_scans,
        },
    )
