"""Pages for data access requests (legal role): the list, a request, its photos and matches.

Thin views on governance.privacy.services.requests; every personal-data image served here
(reference photos, candidate face crops, the response pack) is logged as a PersonalDataView.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from governance.errors import validation_text
from governance.http import AuthenticatedRequest
from governance.privacy.forms.requests import (
    AccessRequestForm,
    CandidateDecisionForm,
    ChooseFaceForm,
    ReferencePhotoForm,
)
from governance.privacy.models import (
    AccessRequestRefusal,
    AccessRequestReply,
    DataAccessRequest,
    PersonalDataView,
    RequestCandidate,
)
from governance.privacy.selectors.requests import (
    access_requests_visible_to,
    days_left,
    encoding_coverage,
    is_overdue,
    open_cases_by_rendition,
    request_candidates,
    request_replies,
    response_pack_file,
    retention_until,
)
from governance.privacy.services.images import personal_view_record
from governance.privacy.services.reference_photos import (
    reference_photo_add,
    reference_photo_choose_face,
)
from governance.privacy.services.request_images import (
    ImageUnavailable,
    candidate_face_jpeg,
    reference_photo_jpeg,
    reference_photo_size,
)
from governance.privacy.services.requests import (
    access_request_create,
    access_request_search,
    no_encodings_message,
    request_candidate_decide,
)
from governance.privacy.services.response_packs import response_pack_build

VIEW = "privacy.view_dataaccessrequest"
WORK = "privacy.work_dataaccessrequest"
# Multipart framing around an uploaded file; a body larger than the limit plus this is refused.
_UPLOAD_SLACK = 64 * 1024


def _visible(request: AuthenticatedRequest, pk: int) -> DataAccessRequest:
    return get_object_or_404(access_requests_visible_to(user=request.user), pk=pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def dsar_list(request: AuthenticatedRequest) -> HttpResponse:
    """List data access requests, soonest due first, with the days left or overdue."""
    status = request.GET.get("status", "")
    requests = access_requests_visible_to(user=request.user)
    if status in DataAccessRequest.Status.values:
        requests = requests.filter(status=status)
    today = timezone.localdate()
    rows = [(r, days_left(request=r, today=today)) for r in requests]
    return render(
        request,
        "privacy/dsar_list.html",
        {
            "rows": rows,
            "status": status,
            "statuses": DataAccessRequest.Status.choices,
            "days": settings.PROVENA_DSAR_DAYS,
        },
    )


@login_required
@permission_required(WORK, raise_exception=True)
def dsar_create(request: AuthenticatedRequest) -> HttpResponse:
    """Record a new data access request."""
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = access_request_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Data access request %(pk)s recorded; the response is due %(due)s.")
                % {"pk": created.pk, "due": f"{created.due_on:%Y-%m-%d}"},
            )
            return redirect("dsar-detail", pk=created.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "privacy/dsar_create.html", {"form": form}, status=status)


def _photo_rows(dsar: DataAccessRequest) -> list[dict]:
    """Return each reference photo with its face boxes as percentages of the image."""
    rows = []
    for photo in dsar.reference_photos.all():
        try:
            size = reference_photo_size(photo=photo)
        except ImageUnavailable:
            rows.append({"photo": photo, "missing": True, "boxes": []})
            continue
        boxes = [
            {
                "index": index,
                "number": index + 1,
                "x": left,
                "y": top,
                "width": width,
                "height": height,
                "chosen": index == photo.chosen_face,
            }
            for index, (left, top, width, height) in enumerate(photo.faces)
        ]
        rows.append(
            {
                "photo": photo,
                "size": size,
                "boxes": boxes,
                "needs_choice": photo.chosen_face is None and len(boxes) > 1,
            }
        )
    return rows


def _detail(
    request: AuthenticatedRequest,
    dsar: DataAccessRequest,
    *,
    error: str = "",
    upload_form: ReferencePhotoForm | None = None,
    status: int = 200,
) -> HttpResponse:
    candidates = list(request_candidates(request=dsar))
    cases = open_cases_by_rendition(rendition_ids={c.face.rendition_id for c in candidates})
    for candidate in candidates:
        candidate.open_cases = cases.get(candidate.face.rendition_id, [])  # type: ignore[attr-defined]
    coverage = encoding_coverage()
    refusal = AccessRequestRefusal.objects.filter(request=dsar).first()
    return render(
        request,
        "privacy/dsar_detail.html",
        {
            "dsar": dsar,
            "days_left": days_left(request=dsar),
            "error": error,
            "upload_form": upload_form or ReferencePhotoForm(),
            "photos": _photo_rows(dsar),
            "searchable": dsar.reference_photos.filter(encoding__isnull=False).exists(),
            "candidates": candidates,
            "undecided": sum(c.confirmed is None for c in candidates),
            "confirmed": sum(c.confirmed is True for c in candidates),
            "packs": dsar.response_packs.select_related("created_by").order_by("-created_at"),
            "coverage": coverage,
            "coverage_problem": "" if coverage.searchable_faces else no_encodings_message(),
            "can_work": request.user.has_perm(WORK),
            "is_open": dsar.status
            not in (DataAccessRequest.Status.CLOSED, DataAccessRequest.Status.REFUSED),
            "overdue": is_overdue(request=dsar),
            "replies": request_replies(request=dsar),
            "refusal": refusal,
            "retention_until": retention_until(request=dsar),
            "retention_days": settings.PROVENA_DSAR_RETENTION_DAYS,
            "reply_kinds": AccessRequestReply.Kind.choices,
            "grounds": AccessRequestRefusal.Ground.choices,
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def dsar_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Show a request: reference photos and faces, ranked candidates, response packs."""
    return _detail(request, _visible(request, pk))


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES + _UPLOAD_SLACK


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_photo_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Upload a reference photo of the subject; say how many faces it shows."""
    dsar = _visible(request, pk)
    if _too_large(request):
        limit = filesizeformat(settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES)
        error = (
            f"The file is larger than {limit}, the most a reference photo may be "
            "(setting PROVENA_REFERENCE_PHOTO_MAX_BYTES)."
        )
        return _detail(request, dsar, error=error, status=413)
    form = ReferencePhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(
            request, dsar, error="Choose a photo to upload.", upload_form=form, status=400
        )
    try:
        photo = reference_photo_add(
            request=dsar, upload=form.cleaned_data["photo"], uploaded_by=request.user
        )
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), upload_form=form, status=400)
    if photo.chosen_face is None:
        messages.warning(
            request,
            _("%(count)s faces found in %(name)s: pick the subject's face.")
            % {"count": len(photo.faces), "name": photo.original_name},
        )
    else:
        messages.success(
            request,
            _("One face found in %(name)s; ready to search.") % {"name": photo.original_name},
        )
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required(WORK, raise_exception=True)
def dsar_photo_image(request: AuthenticatedRequest, pk: int, photo: int) -> HttpResponse:
    """Serve a reference photo, upright, and log the look."""
    dsar = _visible(request, pk)
    reference = get_object_or_404(dsar.reference_photos, pk=photo)
    try:
        data = reference_photo_jpeg(photo=reference)
    except ImageUnavailable as exc:
        raise Http404(f"the reference photo cannot be shown: {exc}") from exc
    personal_view_record(
        user=request.user,
        rendition=None,
        kind=PersonalDataView.Kind.REFERENCE,
        detail=f"access request {dsar.pk}, reference photo {reference.pk}",
    )
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_photo_choose(request: AuthenticatedRequest, pk: int, photo: int) -> HttpResponse:
    """Record which face in a group reference photo is the subject's."""
    dsar = _visible(request, pk)
    reference = get_object_or_404(dsar.reference_photos, pk=photo)
    form = ChooseFaceForm(request.POST)
    if not form.is_valid():
        return _detail(request, dsar, error=_("Pick one of the faces."), status=400)
    try:
        reference_photo_choose_face(
            photo=reference, face=form.cleaned_data["face"], user=request.user
        )
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    messages.success(
        request,
        _("Face %(number)s chosen; ready to search.") % {"number": form.cleaned_data["face"] + 1},
    )
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_search(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Search the archive for the subject's face."""
    dsar = _visible(request, pk)
    try:
        result = access_request_search(request=dsar, user=request.user)
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    messages.success(
        request,
        ngettext(
            "Searched %(searched)s faces: %(count)s candidate within distance "
            "%(distance)s (%(new)s new).",
            "Searched %(searched)s faces: %(count)s candidates within distance "
            "%(distance)s (%(new)s new).",
            result.candidates,
        )
        % {
            "searched": result.searched,
            "count": result.candidates,
            "distance": f"{settings.PROVENA_DSAR_MATCH_DISTANCE:.2f}",
            "new": result.new,
        },
    )
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("dsar-detail", pk=dsar.pk)


def _candidate(dsar: DataAccessRequest, candidate: int) -> RequestCandidate:
    return get_object_or_404(dsar.candidates.select_related("face"), pk=candidate)


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_candidate_decide(request: AuthenticatedRequest, pk: int, candidate: int) -> HttpResponse:
    """Confirm or reject a candidate face."""
    dsar = _visible(request, pk)
    found = _candidate(dsar, candidate)
    form = CandidateDecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, dsar, error="Say whether this is the subject.", status=400)
    try:
        request_candidate_decide(candidate=found, confirmed=form.confirmed, user=request.user)
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    return redirect(f"{reverse('dsar-detail', args=[dsar.pk])}#candidate-{found.pk}")


@login_required
@permission_required(WORK, raise_exception=True)
def dsar_candidate_face(request: AuthenticatedRequest, pk: int, candidate: int) -> HttpResponse:
    """Serve a crop of a candidate's face from its photograph, and log the look."""
    dsar = _visible(request, pk)
    found = _candidate(dsar, candidate)
    try:
        data = candidate_face_jpeg(candidate=found)
    except ImageUnavailable as exc:
        raise Http404(f"the face cannot be shown: {exc}") from exc
    personal_view_record(
        user=request.user,
        rendition=found.face.rendition,
        kind=PersonalDataView.Kind.THUMBNAIL,
        detail=f"face crop for access request {dsar.pk}, candidate {found.pk}",
    )
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required(WORK, raise_exception=True)
@require_POST
def dsar_pack_build(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Build the response pack from the confirmed matches."""
    dsar = _visible(request, pk)
    try:
        pack = response_pack_build(request=dsar, user=request.user)
    except ValidationError as exc:
        return _detail(request, dsar, error=validation_text(exc), status=400)
    messages.success(
        request,
        _("Response pack built: %(copies)s listed, %(images)s with other faces blurred.")
        % {
            "copies": ngettext("%(n)s copy", "%(n)s copies", pack.copies) % {"n": pack.copies},
            "images": ngettext("%(n)s image", "%(n)s images", pack.images) % {"n": pack.images},
        },
    )
    return redirect("dsar-detail", pk=dsar.pk)


@login_required
@permission_required(WORK, raise_exception=True)
def dsar_pack_download(request: AuthenticatedRequest, pk: int, pack: int) -> FileResponse:
    """Download a response pack (its images are personal data: the download is logged)."""
    dsar = _visible(request, pk)
    found = get_object_or_404(dsar.response_packs, pk=pack)
    if found.purged_at is not None:
        raise Http404(
            f"response pack {found.pk} was deleted {found.purged_at:%Y-%m-%d} (retention)"
        )
    path = response_pack_file(pack=found)
    if not path.is_file():
        raise Http404("the response pack is missing from PROVENA_MEDIA_ROOT; build it again")
    personal_view_record(
        user=request.user,
        rendition=None,
        kind=PersonalDataView.Kind.REDACTION,
        detail=f"response pack {found.pk} of access request {dsar.pk}",
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip"
    )
