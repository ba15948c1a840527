"""Reads over data access requests: the list, candidates, their copies, reference images,
the 40-day clock and its reminders, the retention period and the refusal log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.models import User
from governance.privacy.models import (
    AccessRequestRefusal,
    AccessRequestReply,
    DataAccessRequest,
    PrivacyCase,
    ReferencePhoto,
    RequestCandidate,
    ResponsePack,
)
from inventory.models import Copy, Face, Rendition
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


# --- the clock, reminders, retention and the refusal log --------------------------------------


def is_overdue(*, request: DataAccessRequest, today: date | None = None) -> bool:
    """Return whether the request is past its due date with no reply of any kind sent.

    A partial reply with reasons sent in time meets s19(2); the rest is still owed, but the
    request is then "partly answered", not overdue.
    """
    return (
        request.status == DataAccessRequest.Status.OPEN
        and days_left(request=request, today=today) < 0
    )


def reminder_due(*, request: DataAccessRequest, today: date | None = None) -> str:
    """Return the reminder stage the request has reached and not yet been reminded of, or ""."""
    if request.status != DataAccessRequest.Status.OPEN:
        return DataAccessRequest.Reminder.NONE
    left = days_left(request=request, today=today)
    if left < 0:
        stage = DataAccessRequest.Reminder.OVERDUE
    elif left <= settings.PROVENA_DSAR_REMINDER_DAYS:
        stage = DataAccessRequest.Reminder.DUE_SOON
    else:
        return DataAccessRequest.Reminder.NONE
    order = [c.value for c in DataAccessRequest.Reminder]
    return stage if order.index(stage) > order.index(request.reminder) else ""


def requests_needing_reminder(*, today: date) -> list[tuple[DataAccessRequest, str]]:
    """Return the open requests due within PROVENA_DSAR_REMINDER_DAYS (or overdue) not yet
    reminded of that stage, soonest due first, each with its stage."""
    horizon = today + timedelta(days=settings.PROVENA_DSAR_REMINDER_DAYS)
    candidates = DataAccessRequest.objects.filter(
        status=DataAccessRequest.Status.OPEN, due_on__lte=horizon
    ).order_by("due_on", "pk")
    rows = [(request, reminder_due(request=request, today=today)) for request in candidates]
    return [(request, stage) for request, stage in rows if stage]


def retention_until(*, request: DataAccessRequest) -> datetime | None:
    """Return when a closed request's reference photos, candidates and packs are deleted."""
    if request.closed_at is None:
        return None
    return request.closed_at + timedelta(days=settings.PROVENA_DSAR_RETENTION_DAYS)


def requests_due_for_purge(*, now: datetime) -> QuerySet[DataAccessRequest]:
    """Return the closed requests past the retention period whose data is not yet deleted."""
    cutoff = now - timedelta(days=settings.PROVENA_DSAR_RETENTION_DAYS)
    return DataAccessRequest.objects.filter(
        status=DataAccessRequest.Status.CLOSED,
        closed_at__lte=cutoff,
        data_purged_at__isnull=True,
    ).order_by("closed_at", "pk")


def refusal_log(*, user: User) -> QuerySet[AccessRequestRefusal]:
    """Return the refusal log (s27), newest first: the legal role only."""
    if not user.has_perm("privacy.view_accessrequestrefusal"):
        return AccessRequestRefusal.objects.none()
    return AccessRequestRefusal.objects.select_related("request", "refused_by").order_by(
        "-refused_at", "-pk"
    )


def request_replies(*, request: DataAccessRequest) -> QuerySet[AccessRequestReply]:
    """Return the replies sent to the data subject, in the order they were sent."""
    return request.replies.select_related("pack", "recorded_by").order_by("sent_on", "pk")


def open_cases_by_rendition(*, rendition_ids: Iterable[int]) -> dict[int, list[PrivacyCase]]:
    """Return, per rendition, the privacy cases awaiting a decision on its photograph."""
    renditions = dict(
        Rendition.objects.filter(pk__in=list(rendition_ids)).values_list("pk", "asset_id")
    )
    if not renditions:
        return {}
    awaiting = PrivacyCase.objects.exclude(
        status__in=[PrivacyCase.Status.DECIDED, PrivacyCase.Status.MERGED]
    )
    assets = {a for a in renditions.values() if a is not None}
    cases = awaiting.filter(
        Q(asset_id__in=assets) | Q(asset__isnull=True, anchor_id__in=list(renditions))
    ).order_by("pk")
    result: dict[int, list[PrivacyCase]] = {pk: [] for pk in renditions}
    for case in cases:
        for rendition_id, asset_id in renditions.items():
            if (case.asset_id is not None and case.asset_id == asset_id) or (
                case.asset_id is None and case.anchor_id == rendition_id
            ):
                result[rendition_id].append(case)
    return result
