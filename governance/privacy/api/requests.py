"""The data access request API (legal role only): requests, reference photos, the search,
verdicts on candidates and the response pack. Thin views on the same services as the pages;
face encodings never leave the server."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.services import call_service, signed_in_user, validated_params
from governance.privacy.api.request_serializers import (
    AccessRequestCreateSerializer,
    AccessRequestSearchResultSerializer,
    AccessRequestSerializer,
    CandidateDecideSerializer,
    CandidateSerializer,
    CloseSerializer,
    ReferenceFaceChoiceSerializer,
    ReferencePhotoSerializer,
    RefusalSerializer,
    RefuseSerializer,
    ReplyRecordSerializer,
    ReplySerializer,
    ResponsePackSerializer,
)
from governance.privacy.models import (
    DataAccessRequest,
    PersonalDataView,
)
from governance.privacy.selectors.requests import (
    access_requests_visible_to,
    open_cases_by_rendition,
    refusal_log,
    request_candidates,
    response_pack_file,
)
from governance.privacy.services.images import personal_view_record
from governance.privacy.services.reference_photos import (
    reference_photo_add,
    reference_photo_choose_face,
)
from governance.privacy.services.request_replies import (
    access_request_close,
    access_request_refuse,
    access_request_reply_record,
)
from governance.privacy.services.requests import (
    access_request_create,
    access_request_search,
    request_candidate_decide,
)
from governance.privacy.services.response_packs import response_pack_build

_UPLOAD_SLACK = 64 * 1024


class WorksAccessRequests(BasePermission):
    """Reading needs privacy.view_dataaccessrequest, anything else work_dataaccessrequest."""

    message = "only the legal role works data access requests"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm("privacy.view_dataaccessrequest")
        return user.has_perm("privacy.work_dataaccessrequest")


# --- serializers ---------------------------------------------------------------------------


def _candidates(dsar: DataAccessRequest) -> Any:
    candidates = list(request_candidates(request=dsar))
    cases = open_cases_by_rendition(rendition_ids={c.face.rendition_id for c in candidates})
    return CandidateSerializer(candidates, many=True, context={"open_cases": cases}).data


class AccessRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Data access requests: list, read, record; photos, search, verdicts, the response."""

    serializer_class = AccessRequestSerializer
    permission_classes = [WorksAccessRequests]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = DataAccessRequest.objects.none()
    lookup_value_regex = "[0-9]+"
    filterset_fields = ["status"]
    ordering_fields = ["due_on", "received_on", "id"]

    def get_queryset(self) -> QuerySet[DataAccessRequest]:
        return access_requests_visible_to(user=signed_in_user(self.request)).prefetch_related(
            "reference_photos__uploaded_by",
            "response_packs__created_by",
            "replies__recorded_by",
            "replies__request",
        )

    def _fresh(self, pk: int) -> dict:
        return AccessRequestSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=AccessRequestCreateSerializer, responses={201: AccessRequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a data access request; it is due PROVENA_DSAR_DAYS days after receipt."""
        data = validated_params(AccessRequestCreateSerializer, request)
        created = call_service(
            lambda: access_request_create(created_by=signed_in_user(request), **data)
        )
        return Response(
            self._fresh(created.pk),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/access-requests/{created.pk}/"},
        )

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "ReferencePhotoUpload", {"file": serializers.FileField()}
            )
        },
        responses={201: ReferencePhotoSerializer, 400: None, 413: None},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request: Request, pk: str | None = None) -> Response:
        """Upload a reference photo (multipart field "file"); several faces need a choice."""
        dsar = self.get_object()
        limit = settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES
        too_large = {
            "detail": f"the file is larger than {filesizeformat(limit)}, the most a reference "
            "photo may be (setting PROVENA_REFERENCE_PHOTO_MAX_BYTES)"
        }
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + _UPLOAD_SLACK:
            return Response(too_large, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "send the photo as the multipart field 'file'"})
        photo = call_service(
            lambda: reference_photo_add(
                request=dsar, upload=upload, uploaded_by=signed_in_user(request)
            )
        )
        return Response(ReferencePhotoSerializer(photo).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferenceFaceChoiceSerializer, responses=ReferencePhotoSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"photos/(?P<photo_id>[0-9]+)/choose",
        url_name="choose-face",
    )
    def choose_face(self, request: Request, pk: str | None = None, photo_id: str = "") -> Response:
        """Pick which face in a reference photo is the subject's."""
        dsar = self.get_object()
        photo = get_object_or_404(dsar.reference_photos, pk=photo_id)
        face = validated_params(ReferenceFaceChoiceSerializer, request)["face"]
        chosen = call_service(
            lambda: reference_photo_choose_face(
                photo=photo, face=face, user=signed_in_user(request)
            )
        )
        return Response(ReferencePhotoSerializer(chosen).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "AccessRequestSearch",
            {
                "result": AccessRequestSearchResultSerializer(),
                "candidates": CandidateSerializer(many=True),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def search(self, request: Request, pk: str | None = None) -> Response:
        """Search the archive's faces for the subject; return the candidates, nearest first."""
        dsar = self.get_object()
        result = call_service(
            lambda: access_request_search(request=dsar, user=signed_in_user(request))
        )
        return Response(
            {
                "result": AccessRequestSearchResultSerializer(result).data,
                "candidates": _candidates(dsar),
            }
        )

    @extend_schema(request=None, responses=CandidateSerializer(many=True))
    @action(detail=True, methods=["get"])
    def candidates(self, request: Request, pk: str | None = None) -> Response:
        """List the candidate faces found so far, nearest first, with their verdicts."""
        dsar = self.get_object()
        return Response(_candidates(dsar))

    @extend_schema(request=CandidateDecideSerializer, responses=CandidateSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"candidates/(?P<candidate_id>[0-9]+)/decide",
        url_name="decide",
    )
    def decide(self, request: Request, pk: str | None = None, candidate_id: str = "") -> Response:
        """Confirm (true) or reject (false) a candidate face."""
        dsar = self.get_object()
        candidate = get_object_or_404(dsar.candidates, pk=candidate_id)
        confirmed = validated_params(CandidateDecideSerializer, request)["confirmed"]
        call_service(
            lambda: request_candidate_decide(
                candidate=candidate, confirmed=confirmed, user=signed_in_user(request)
            )
        )
        decided = request_candidates(request=dsar).get(pk=candidate.pk)
        return Response(CandidateSerializer(decided).data)

    @extend_schema(request=None, responses={201: ResponsePackSerializer})
    @action(detail=True, methods=["post"])
    def pack(self, request: Request, pk: str | None = None) -> Response:
        """Build the response pack from the confirmed candidates; the request is responded."""
        dsar = self.get_object()
        built = call_service(
            lambda: response_pack_build(request=dsar, user=signed_in_user(request))
        )
        return Response(ResponsePackSerializer(built).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"packs/(?P<pack_id>[0-9]+)/download",
        url_name="download",
    )
    def download(self, request: Request, pk: str | None = None, pack_id: str = "") -> FileResponse:
        """Download a response pack (logged as a look at personal data)."""
        dsar = self.get_object()
        pack = get_object_or_404(dsar.response_packs, pk=pack_id)
        if pack.purged_at is not None:
            raise Http404(
                f"response pack {pack.pk} was deleted {pack.purged_at:%Y-%m-%d} (retention)"
            )
        path = response_pack_file(pack=pack)
        if not path.is_file():
            raise Http404("the response pack is missing from PROVENA_MEDIA_ROOT; build it again")
        personal_view_record(
            user=signed_in_user(request),
            rendition=None,
            kind=PersonalDataView.Kind.REDACTION,
            detail=f"response pack {pack.pk} of access request {dsar.pk} (API)",
        )
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip"
        )

    @extend_schema(request=ReplyRecordSerializer, responses={201: ReplySerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        """Record a reply sent to the data subject: full (naming the pack sent) or partial
        with the written reasons (s19(2))."""
        dsar = self.get_object()
        data = validated_params(ReplyRecordSerializer, request)
        pack = None
        if data["pack"] is not None:
            pack = dsar.response_packs.filter(pk=data["pack"]).first()
            if pack is None:
                raise ValidationError(
                    {"pack": f"response pack {data['pack']} is not one of this request's"}
                )
        reply = call_service(
            lambda: access_request_reply_record(
                request=dsar,
                kind=data["kind"],
                pack=pack,
                sent_on=data["sent_on"],
                means=data["means"],
                reasons=data["reasons"],
                user=signed_in_user(request),
            )
        )
        return Response(ReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RefuseSerializer, responses={201: RefusalSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the request with a ground and reasons (entered in the refusal log, s27)."""
        dsar = self.get_object()
        data = validated_params(RefuseSerializer, request)
        refusal = call_service(
            lambda: access_request_refuse(request=dsar, user=signed_in_user(request), **data)
        )
        return Response(RefusalSerializer(refusal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CloseSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the request; its data is deleted PROVENA_DSAR_RETENTION_DAYS later."""
        dsar = self.get_object()
        note = validated_params(CloseSerializer, request)["note"]
        call_service(
            lambda: access_request_close(request=dsar, note=note, user=signed_in_user(request))
        )
        return Response(self._fresh(dsar.pk))

    @extend_schema(request=None, responses=RefusalSerializer(many=True))
    @action(detail=False, methods=["get"])
    def refusals(self, request: Request) -> Response:
        """The refusal log (s27), newest first."""
        log = refusal_log(user=signed_in_user(request))
        page = self.paginate_queryset(log)
        if page is not None:
            return self.get_paginated_response(RefusalSerializer(page, many=True).data)
        return Response(RefusalSerializer(log, many=True).data)
