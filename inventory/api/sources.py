"""API for sources: list, register, scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.services import signed_in_user
from governance.models import Department
from inventory.api.groups import _department_for
from inventory.models import Source
from inventory.selectors.visibility import (
    sources_visible_to,
)
from inventory.services.launch import scan_launch
from inventory.services.scan_lifecycle import ScanAlreadyRunning
from inventory.services.sources import SourceRefused, source_register


class SourceSerializer(serializers.ModelSerializer):
    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Source
        fields = ["id", "name", "root", "department", "risk_tier", "authoritative", "created_at"]
        read_only_fields = fields


class SourceRegisterSerializer(serializers.Serializer):
    # A field named "root" shadows Field.root (the outermost serializer) in the stubs; DRF's
    # metaclass moves declared fields out of the class attributes, so at run time it does not.
    root = serializers.CharField(max_length=1024)  # type: ignore[assignment]
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    department = serializers.CharField(max_length=32, required=False, allow_blank=True)
    risk_tier = serializers.ChoiceField(choices=Source.RiskTier.choices, default="internal")
    authoritative = serializers.BooleanField(default=False)
    allow_nested = serializers.BooleanField(
        default=False,
        help_text="Confirm a root that nests in or encloses a source of the same department.",
    )


class SourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SourceSerializer
    queryset = Source.objects.none()  # for the permission class; get_queryset scopes it
    filterset_fields = ["risk_tier", "authoritative", "department__code"]

    def get_queryset(self) -> QuerySet[Source]:
        return sources_visible_to(user=signed_in_user(self.request))

    @extend_schema(request=SourceRegisterSerializer, responses={201: SourceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = SourceRegisterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        department = _department_for(signed_in_user(request), data.get("department") or None)
        try:
            source = source_register(
                root=Path(data["root"]),
                name=data.get("name") or None,
                department_code=department,
                risk_tier=data["risk_tier"],
                authoritative=data["authoritative"],
                allow_nested=data["allow_nested"],
                created_by=signed_in_user(request),
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
            scan_launch(source=source, started_by=signed_in_user(request))
        except ScanAlreadyRunning as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"detail": f"scan of {source.name} started"}, status=202)
