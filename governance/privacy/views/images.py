"""Thumbnails of renditions: faces of identifiable people pixelated unless the role is legal.

Served by the privacy app, not the inventory: whether a thumbnail may show a person depends on
the viewer's role, and each unblurred look is a personal-data view it records.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404

from governance.http import AuthenticatedRequest
from governance.privacy.services.images import (
    masked_thumbnail,
    may_see_people,
    personal_view_record,
)
from inventory.models import Rendition
from inventory.selectors.people import shows_people
from inventory.selectors.visibility import copies_visible_to
from inventory.services.scan_paths import thumbnail_dir


@login_required
@permission_required("inventory.view_rendition", raise_exception=True)
def thumbnail(request: AuthenticatedRequest, pk: int) -> HttpResponse | FileResponse:
    """Serve a rendition's thumbnail if the user may see one of its copies."""
    rendition = get_object_or_404(Rendition, pk=pk)
    if not copies_visible_to(user=request.user).filter(rendition=rendition).exists():
        raise Http404("no such thumbnail")
    if not rendition.thumbnail:
        raise Http404("this rendition has no thumbnail")
    path = (thumbnail_dir() / rendition.thumbnail).resolve()
    if not path.is_relative_to(thumbnail_dir().resolve()) or not path.is_file():
        raise Http404("thumbnail file is missing; rescan to regenerate it")
    if shows_people(rendition=rendition):
        # Images of identifiable people (any rendition of the photograph shows one): the legal
        # role sees them (and each look is logged); everyone else sees the faces pixelated.
        # Never cached: the answer depends on the role.
        response: HttpResponse | FileResponse
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
    # Not face-checked yet (this rendition or another of its photograph): the next look may
    # have to be blurred, so the browser must ask again.
    checked = rendition.faces_checked_at is not None and not (
        rendition.asset_id
        and Rendition.objects.filter(
            asset_id=rendition.asset_id, faces_checked_at__isnull=True
        ).exists()
    )
    response["Cache-Control"] = "private, max-age=3600" if checked else "private, no-store"
    return response
