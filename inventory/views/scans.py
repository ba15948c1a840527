"""Scan pages and the overview of files with problems."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.files import free_bytes
from governance.http import AuthenticatedRequest
from inventory.models import Scan
from inventory.selectors.sources import current_errors
from inventory.selectors.visibility import sources_visible_to


@login_required
@permission_required("inventory.view_scan", raise_exception=True)
def scan_list(request: AuthenticatedRequest) -> HttpResponse:
    scans = Scan.objects.filter(source__in=sources_visible_to(user=request.user)).select_related(
        "source"
    )
    page = Paginator(scans, 50).get_page(request.GET.get("page"))
    return render(request, "inventory/scan_list.html", {"page": page})


@login_required
@permission_required("inventory.view_scan", raise_exception=True)
def scan_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    scan = get_object_or_404(
        Scan.objects.filter(source__in=sources_visible_to(user=request.user)), pk=pk
    )
    errors = Paginator(scan.error_entries.all(), 100).get_page(request.GET.get("page"))
    # A scan stops when the media root fills up (docs/operations.md): show how close it is.
    try:
        media_free = free_bytes(settings.PROVENA_MEDIA_ROOT)
    except OSError:
        media_free = None
    return render(
        request,
        "inventory/scan_detail.html",
        {"scan": scan, "errors": errors, "media_free": media_free},
    )


@login_required
@permission_required("inventory.view_scanerror", raise_exception=True)
def scan_errors_overview(request: AuthenticatedRequest) -> HttpResponse:
    errors = current_errors(sources=sources_visible_to(user=request.user)).order_by(
        "scan__source__name", "path"
    )
    page = Paginator(errors, 100).get_page(request.GET.get("page"))
    return render(request, "inventory/error_list.html", {"page": page})
