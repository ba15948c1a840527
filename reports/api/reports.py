"""Thin API views over the report services and selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import signed_in_user
from governance.permissions import ModelPermissions
from inventory.selectors.visibility import sources_visible_to
from reports.api.serializers import (
    ReportBuildSerializer,
    ReportSerializer,
    VerificationSerializer,
)
from reports.models import Report
from reports.selectors.registry import reports_visible_to
from reports.services import ReportRefused, report_build
from reports.verification import NotAPdf, report_file_verify
from reports.views.reports import report_pdf_response, too_large_message

NUMBER_PATTERN = r"PR-[0-9]{4}-[0-9]+"


class ReportPermissions(ModelPermissions):
    """Reading needs reports.view_report; building needs reports.build_report."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["reports.build_report"]}


class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReportSerializer
    permission_classes = [ReportPermissions]
    queryset = Report.objects.none()  # for the permission class; get_queryset scopes it
    lookup_field = "number"
    lookup_value_regex = NUMBER_PATTERN
    filterset_fields = ["kind", "status", "signed"]

    def get_queryset(self) -> QuerySet[Report]:
        visible = [report.pk for report in reports_visible_to(user=signed_in_user(self.request))]
        return Report.objects.filter(pk__in=visible).select_related("created_by")

    @extend_schema(request=ReportBuildSerializer, responses={202: ReportSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue a report; poll its status and progress, then download it."""
        params = ReportBuildSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            report = report_build(
                kind=data["kind"],
                sources=data["sources"],
                departments=data["departments"],
                period=(data["date_from"], data["date_to"]),
                sign=data["sign"],
                user=signed_in_user(request),
                within=sources_visible_to(user=signed_in_user(request)),
                background=True,
            )
        except ReportRefused as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        report.refresh_from_db()
        body = ReportSerializer(report, context={"request": request}).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/reports/{report.number}/"},
        )

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, number: str | None = None) -> FileResponse:
        """Download the report's PDF."""
        return report_pdf_response(self.get_object())


class ReportVerifyView(APIView):
    """Verify an uploaded report PDF (multipart field "file"); open to any logged-in user."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=inline_serializer("ReportUpload", {"file": serializers.FileField()}),
        responses={200: VerificationSerializer, 400: None, 413: None},
    )
    def post(self, request: Request) -> Response:
        limit = settings.PROVENA_REPORT_VERIFY_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + 64 * 1024:
            return Response({"detail": too_large_message()}, status=413)
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": "send the report PDF as the multipart field 'file'"}, 400)
        if upload.size > limit:
            return Response({"detail": too_large_message()}, status=413)
        try:
            result = report_file_verify(data=upload.read())
        except NotAPdf as exc:
            return Response({"detail": f"{upload.name}: {exc}"}, status=400)
        return Response(VerificationSerializer(result.as_json()).data)
