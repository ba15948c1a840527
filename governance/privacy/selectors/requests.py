"""Reads over data access requests: the list, candidates, their copies, reference images."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.models import User
from governance.privacy.models import (
    DataAccessRequest,
    ReferencePhoto,
    RequestCandidate,
    ResponsePack,
)
from inventory.models import Copy, Face
from inventory.storage import store_for


def access_requests_visible_to(*, user: User) -> QuerySet[DataAccessRequest]:
    """Return the requests the user may read: all of them for the legal role, else none."""
    if not user.has_perm("privacy.view_dataaccessrequest"):
        return DataAccessRequest.objects.none()
    # Annotating drops the model's default ordering: soonest due first, explicitly.
    return (
        DataAccessRequest.objects.select_related("created_by")
        .annotate(
            candidate_count=Count("candidates", distinct=True),
            confirmed_count=Count(
                "candidates", filter=Q(candidates__confirmed=True), distinct=True
            ),
        )
        .order_by("due_on", "pk")
    )


def days_left(*, request: DataAccessRequest, today: date | None = None) -> int:
    """Return the days until the request is due (negative once overdue)."""
    return (request.due_on - (today or timezone.localdate())).days


def request_candidates(*, request: DataAccessRequest) -> QuerySet[RequestCandidate]:
    """Return the request's candidates, nearest first, with each face's rendition and copies."""
    present = Copy.objects.filter(state=Copy.State.PRESENT).select_related("source__department")
    return (
        request.candidates.select_related("face__rendition", "decided_by")
        .prefetch_related(
            Prefetch("face__rendition__copies", queryset=present.order_by("source__name", "path"))
        )
        .order_by("distance", "pk")
    )


def present_copy_path(*, rendition_id: int) -> Path | None:
    """Return the absolute path of one present copy of the rendition, or None."""
    copy = (
        Copy.objects.filter(rendition_id=rendition_id, state=Copy.State.PRESENT)
        .select_related("source")
        .order_by("pk")
        .first()
    )
    return store_for(copy.source).local_path(copy.path) if copy else None


def reference_photo_file(*, photo: ReferencePhoto) -> Path:
    """Return the absolute path of a stored reference photo (inside PROVENA_MEDIA_ROOT)."""
    root = Path(settings.PROVENA_MEDIA_ROOT).resolve()
    path = (root / photo.path).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"reference photo {photo.pk} points outside PROVENA_MEDIA_ROOT")
    return path


def response_pack_file(*, pack: ResponsePack) -> Path:
    """Return the absolute path of a response pack inside PROVENA_MEDIA_ROOT."""
    root = Path(settings.PROVENA_MEDIA_ROOT).resolve()
    path = (root / pack.path).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"response pack {pack.pk} points outside PROVENA_MEDIA_ROOT")
    return path


@dataclass(frozen=True, slots=True)
class EncodingCoverage:
    """How much of the archive the face search can see."""

    encodings_on: bool
    searchable_faces: int
    renditions_without_encodings: int


def encoding_coverage() -> EncodingCoverage:
    """Count searchable faces and renditions with faces checked without encodings."""
    present = Copy.objects.filter(state=Copy.State.PRESENT).values("rendition_id")
    searchable = Face.objects.filter(encoding__isnull=False, rendition_id__in=present).count()
    unencoded = (
        Face.objects.filter(encoding__isnull=True, rendition_id__in=present)
        .values("rendition_id")
        .distinct()
        .count()
    )
    return EncodingCoverage(
        encodings_on=settings.PROVENA_FACE_ENCODINGS,
        searchable_faces=searchable,
        renditions_without_encodings=unencoded,
    )
