"""Copy pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.http import AuthenticatedRequest
from inventory.models import Copy, Rendition
from inventory.selectors.copies import CopyFilter
from inventory.selectors.groups import retired_rendition_ids, with_retired
from inventory.selectors.visibility import copies_visible_to, sources_visible_to


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def copy_list(request: AuthenticatedRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    copies = with_retired(copies_visible_to(user=request.user)).order_by("source__name", "path")
    params = request.GET
    copies = CopyFilter(params, queryset=copies).qs
    page = Paginator(copies, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/copy_list.html",
        {
            "page": page,
            "sources": sources,
            "states": Copy.State.values,
            "formats": Rendition.objects.order_by("format")
            .values_list("format", flat=True)
            .distinct(),
            "params": params,
            "query": query.urlencode(),
        },
    )


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def copy_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    copy = get_object_or_404(copies_visible_to(user=request.user), pk=pk)
    siblings: QuerySet[Copy] = Copy.objects.none()
    # Not while the rendition is in no asset: rendition__asset_id=None would be every copy of
    # every rendition not yet grouped.
    asset_id = copy.rendition.asset_id if copy.rendition is not None else None
    if asset_id is not None:
        siblings = (
            copies_visible_to(user=request.user)
            .filter(rendition__asset_id=asset_id)
            .exclude(pk=copy.pk)
        )
    retired = copy.rendition_id is not None and copy.rendition_id in retired_rendition_ids(
        [copy.rendition_id]
    )
    return render(
        request,
        "inventory/copy_detail.html",
        {"copy": copy, "siblings": siblings, "retired": retired},
    )
