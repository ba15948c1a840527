"""Source pages: list, detail and starting a scan."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.http import AuthenticatedRequest
from inventory.models import Scan, Source
from inventory.selectors.sources import figures_by_source
from inventory.selectors.visibility import sources_visible_to
from inventory.services.launch import scan_launch
from inventory.services.scan_lifecycle import ScanAlreadyRunning


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def source_list(request: AuthenticatedRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    return render(
        request,
        "inventory/source_list.html",
        {
            "figures": figures_by_source(sources=sources),
        },
    )


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def source_detail(request: AuthenticatedRequest, name: str) -> HttpResponse:
    source = get_object_or_404(sources_visible_to(user=request.user), name=name)
    return render(
        request,
        "inventory/source_detail.html",
        {
            "source": source,
            "figures": figures_by_source(sources=Source.objects.filter(pk=source.pk))[0],
            "scans": source.scans.all()[:20],
            "running": source.scans.filter(status=Scan.Status.RUNNING).first(),
        },
    )


@login_required
@require_POST
def source_scan(request: AuthenticatedRequest, name: str) -> HttpResponse:
    source = get_object_or_404(sources_visible_to(user=request.user), name=name)
    if not request.user.has_perm("inventory.run_scan"):
        raise PermissionDenied("your role may not run scans")
    try:
        scan_launch(source=source, started_by=request.user)
    except ScanAlreadyRunning as exc:
        messages.error(request, str(exc))
    else:
        latest = source.scans.first()
        if latest is not None and latest.status == Scan.Status.FINISHED:
            messages.success(
                request,
                _("Scan #%(pk)s of %(source)s finished.")
                % {"pk": latest.pk, "source": source.name},
            )
        else:
            messages.success(
                request,
                _("Scan of %(source)s started; progress shows below.") % {"source": source.name},
            )
    return redirect("source-detail", name=source.name)
