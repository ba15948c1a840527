"""Thin API views over the inventory's services and selectors."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import call_service, validated_params
from inventory.api.serializers import (
    CopySerializer,
    DuplicateGroupSerializer,
    MatchDecideSerializer,
    MatchDecisionSerializer,
    MatchSerializer,
    ScanErrorSerializer,
    ScanSerializer,
    SourceRegisterSerializer,
    SourceSerializer,
)
from inventory.findings import findings_document
from inventory.models import Copy, Match, Scan, Source
from inventory.selectors import (
    copies_visible_to,
    duplicate_groups,
    is_organisation_wide,
    matches_visible_to,
    sources_visible_to,
    with_retired,
)
from inventory.services.launch import scan_launch
from inventory.services.review import match_decide
from inventory.services.scan import ScanAlreadyRunning
from inventory.services.sources import SourceRefused, source_register


class SourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SourceSerializer
    queryset = Source.objects.none()  # for the permission class; get_queryset scopes it
    filterset_fields = ["risk_tier", "authoritative", "department__code"]

    def get_queryset(self):
        return sources_visible_to(user=self.request.user)

    @extend_schema(request=SourceRegisterSerializer, responses={201: SourceSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        params = SourceRegisterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        department = _department_for(request.user, data.get("department") or None)
        try:
            source = source_register(
                root=Path(data["root"]),
                name=data.get("name") or None,
                department_code=department,
                risk_tier=data["risk_tier"],
                authoritative=data["authoritative"],
                created_by=request.user,
            )
        except SourceRefused as exc:
            raise ValidationError({"root": [str(exc)]}) from exc
        return Response(SourceSerializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: None, 409: None})
    # Running a scan is its own permission (checked below), not "add source".
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def scan(self, request: Request, pk: str | None = None) -> Response:
        """Start a scan of the source in the background."""
        source = self.get_object()
        if not request.user.has_perm("inventory.run_scan"):
            raise PermissionDenied("your role may not run scans")
        try:
            scan_launch(source=source, started_by=request.user)
        except ScanAlreadyRunning as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"detail": f"scan of {source.name} started"}, status=202)


class ScanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScanSerializer
    queryset = Scan.objects.none()
    filterset_fields = ["status", "source__name"]

    def get_queryset(self):
        return Scan.objects.filter(
            source__in=sources_visible_to(user=self.request.user)
        ).select_related("source")

    @extend_schema(responses=ScanErrorSerializer(many=True))
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: str | None = None) -> Response:
        """List the files this scan could not inventory."""
        scan = self.get_object()
        page = self.paginate_queryset(scan.error_entries.all())
        return self.get_paginated_response(ScanErrorSerializer(page, many=True).data)


class CopyFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name")
    path = django_filters.CharFilter(field_name="path", lookup_expr="icontains")
    format = django_filters.CharFilter(field_name="rendition__format", lookup_expr="iexact")
    has_problem = django_filters.BooleanFilter(method="filter_problem")

    class Meta:
        model = Copy
        fields = ["source", "state", "sha256", "path", "format"]

    def filter_problem(self, queryset, name: str, value: bool):
        return queryset.exclude(problem="") if value else queryset.filter(problem="")


class CopyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CopySerializer
    queryset = Copy.objects.none()
    filterset_class = CopyFilter
    ordering_fields = ["path", "size", "last_seen_at"]

    def get_queryset(self):
        return with_retired(copies_visible_to(user=self.request.user)).order_by(
            "source__name", "path"
        )


class DuplicateGroupList(APIView):
    """Groups of copies that hold the same photograph more than once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("source", str, description="only groups touching this source"),
            OpenApiParameter("limit", int, description="at most this many groups (max 1000)"),
            OpenApiParameter("offset", int),
        ],
        responses=DuplicateGroupSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("inventory.view_copy"):
            raise PermissionDenied("your role may not see the inventory")
        sources = sources_visible_to(user=request.user)
        if request.query_params.get("source"):
            sources = sources.filter(name=request.query_params["source"])
        limit = _bounded_int(request, "limit", 100, 1, 1000)
        offset = _bounded_int(request, "offset", 0, 0, 10**9)
        groups = list(islice(duplicate_groups(sources=sources), offset, offset + limit))
        return Response(DuplicateGroupSerializer(groups, many=True).data)


class FindingsExport(APIView):
    """The findings export (DESIGN.md, version 1) over the sources the user may see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("inventory.export_findings"):
            raise PermissionDenied("your role may not export findings")
        return Response(findings_document(sources=sources_visible_to(user=request.user)))


def _department_for(user, code: str | None) -> str | None:
    """Return the department a user may register a source for: their own unless org-wide."""
    if is_organisation_wide(user=user):
        return code
    own = user.department.code if user.department else None
    if code and code != own:
        raise PermissionDenied(f"you may register sources for your own department ({own}) only")
    if own is None:
        raise ValidationError({"department": ["your account has no department; ask an admin"]})
    return own


def _bounded_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"{raw!r} is not a whole number"]}) from None
    if not low <= value <= high:
        raise ValidationError({name: [f"must be between {low} and {high}"]})
    return value


class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Near-duplicate matches; POST .../decide/ records a reviewer's ruling."""

    serializer_class = MatchSerializer
    queryset = Match.objects.none()
    filterset_fields = ["status", "tier", "relation"]

    def get_queryset(self):
        return (
            matches_visible_to(user=self.request.user)
            .prefetch_related("decisions__decided_by")
            .order_by("tier", "-score", "pk")
        )

    @extend_schema(request=MatchDecideSerializer, responses={201: MatchDecisionSerializer})
    # The service checks inventory.review_match; the model's add permission is not the point.
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Rule that the pair is the same photograph (with a relation) or not."""
        match = self.get_object()
        params = validated_params(MatchDecideSerializer, request)
        decision = call_service(lambda: match_decide(match=match, user=request.user, **params))
        return Response(MatchDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
