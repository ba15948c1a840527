"""API for scans and their errors."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.services import signed_in_user
from inventory.models import Scan, ScanError, Source
from inventory.selectors.visibility import (
    sources_visible_to,
)


class ScanSerializer(serializers.ModelSerializer):
    # A field named "source" shadows Field.source in the stubs; DRF's metaclass moves declared
    # fields out of the class attributes, so nothing is shadowed at run time.
    source: serializers.SlugRelatedField[Source] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="name", read_only=True
    )
    rate = serializers.FloatField(read_only=True, allow_null=True)
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Scan
        fields = [
            "id",
            "source",
            "status",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "software_version",
            "parameters",
            "failure_reason",
            "files_seen",
            "bytes_seen",
            "files_to_examine",
            "files_examined",
            "files_new",
            "files_changed",
            "files_unchanged",
            "files_moved",
            "files_missing",
            "files_skipped",
            "errors",
            "duplicate_groups",
            "reclaimable_bytes",
            "timings",
            "rate",
            "eta_seconds",
        ]
        read_only_fields = fields


class ScanErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScanError
        fields = ["id", "scan", "path", "error"]
        read_only_fields = fields


class ScanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScanSerializer
    queryset = Scan.objects.none()
    filterset_fields = ["status", "source__name"]

    def get_queryset(self) -> QuerySet[Scan]:
        return Scan.objects.filter(
            source__in=sources_visible_to(user=signed_in_user(self.request))
        ).select_related("source")

    @extend_schema(responses=ScanErrorSerializer(many=True))
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: str | None = None) -> Response:
        """List the files this scan could not inventory."""
        scan = self.get_object()
        page = self.paginate_queryset(scan.error_entries.all())
        return self.get_paginated_response(ScanErrorSerializer(page, many=True).data)
