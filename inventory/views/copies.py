"""Copy pages and thumbnails."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from inventory.models import Copy, Rendition
from inventory.selectors.groups import retired_rendition_ids, with_retired
from inventory.selectors.visibility import copies_visible_to, sources_visible_to
from inventory.services.scan import thumbnail_dir


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def copy_list(request: HttpRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    copies = with_retired(copies_visible_to(user=request.user)).order_by("source__name", "path")
    params = request.GET
    if params.get("source"):
        copies = copies.filter(source__name=params["source"])
    if params.get("state"):
        copies = copies.filter(state=params["state"])
    if params.get("format"):
        copies = copies.filter(rendition__format__iexact=params["format"])
    if params.get("q"):
        copies = copies.filter(Q(path__icontains=params["q"]) | Q(sha256=params["q"].lower()))
    if params.get("problems") == "1":
        copies = copies.exclude(problem="")
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
def copy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    copy = get_object_or_404(copies_visible_to(user=request.user), pk=pk)
    siblings = []
    if copy.rendition_id:
        siblings = (
            copies_visible_to(user=request.user)
            .filter(rendition__asset_id=copy.rendition.asset_id)
            .exclude(pk=copy.pk)
        )
    retired = bool(copy.rendition_id) and copy.rendition_id in retired_rendition_ids(
        [copy.rendition_id]
    )
    return render(
        request,
        "inventory/copy_detail.html",
        {"copy": copy, "siblings": siblings, "retired": retired},
    )


@login_required
@permission_required("inventory.view_rendition", raise_exception=True)
def thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    """Serve a rendition's thumbnail if the user may see one of its copies."""
    rendition = get_object_or_404(Rendition, pk=pk)
    if not copies_visible_to(user=request.user).filter(rendition=rendition).exists():
        raise Http404("no such thumbnail")
    if not rendition.thumbnail:
        raise Http404("this rendition has no thumbnail")
    path = (thumbnail_dir() / rendition.thumbnail).resolve()
    if not path.is_relative_to(thumbnail_dir().resolve()) or not path.is_file():
        raise Http404("thumbnail file is missing; rescan to regenerate it")
    if rendition.identifiable_faces:
        # Images of identifiable people: the legal role sees them (and each look is logged);
        # everyone else sees the faces pixelated. Never cached: the answer depends on the role.
        from governance.privacy.services.images import (
            masked_thumbnail,
            may_see_people,
            personal_view_record,
        )

        if may_see_people(request.user):
            personal_view_record(user=request.user, rendition=rendition, kind="thumbnail")
            response = FileResponse(path.open("rb"), content_type="image/jpeg")
        else:
            response = HttpResponse(
                masked_thumbnail(rendition=rendition, thumbnail=path), content_type="image/jpeg"
            )
        response["Cache-Control"] = "private, no-store"
        return response
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    # Not face-checked yet: the next look may have to be blurred, so the browser must ask again.
    checked = rendition.faces_checked_at is not None
    response["Cache-Control"] = "private, max-age=3600" if checked else "private, no-store"
    return response
