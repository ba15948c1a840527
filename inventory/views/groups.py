"""Duplicate group pages."""

from __future__ import annotations

from itertools import islice

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from governance.http import AuthenticatedRequest
from inventory.selectors.groups import duplicate_groups
from inventory.selectors.visibility import member_scope_for, sources_visible_to

GROUPS_PER_PAGE = 24


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def group_list(request: AuthenticatedRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    if request.GET.get("source"):
        sources = sources.filter(name=request.GET["source"])
    try:
        page_number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    start = (page_number - 1) * GROUPS_PER_PAGE
    scope = member_scope_for(user=request.user)
    groups = list(
        islice(duplicate_groups(sources=sources, scope=scope), start, start + GROUPS_PER_PAGE + 1)
    )
    return render(
        request,
        "inventory/group_list.html",
        {
            "groups": groups[:GROUPS_PER_PAGE],
            "page_number": page_number,
            "has_next": len(groups) > GROUPS_PER_PAGE,
            "sources": sources_visible_to(user=request.user),
            "selected_source": request.GET.get("source", ""),
        },
    )


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def group_detail(request: AuthenticatedRequest, asset_id: int) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    scope = member_scope_for(user=request.user)
    group = next(iter(duplicate_groups(sources=sources, asset_ids=[asset_id], scope=scope)), None)
    if group is None:
        raise Http404("no duplicate group for this asset")
    return render(request, "inventory/group_detail.html", {"group": group})
