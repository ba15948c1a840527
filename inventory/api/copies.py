"""API for copies and their renditions."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from governance.api.services import signed_in_user
from inventory.models import Copy, Rendition, Source
from inventory.selectors.copies import CopyFilter
from inventory.selectors.groups import with_retired
from inventory.selectors.visibility import (
    copies_visible_to,
)


class RenditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rendition
        fields = [
            "id",
            "pixel_hash",
            "asset",
            "format",
            "width",
            "height",
            "mode",
            "has_icc_profile",
            "frame_count",
            "orientation",
            "metadata",
            "capture_time",
            "phash",
            "dhash",
            "fingerprint_note",
        ]
        read_only_fields = fields


class CopySerializer(serializers.ModelSerializer):
    # A field named "source" shadows Field.source in the stubs; DRF's metaclass moves declared
    # fields out of the class attributes, so nothing is shadowed at run time.
    source: serializers.SlugRelatedField[Source] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="name", read_only=True
    )
    # None for a file that could not be decoded (its error is in `problem`).
    rendition = RenditionSerializer(read_only=True, allow_null=True)
    retired = serializers.SerializerMethodField()

    class Meta:
        model = Copy
        fields = [
            "id",
            "source",
            "path",
            "size",
            "mtime_ns",
            "sha256",
            "state",
            "problem",
            "first_seen_at",
            "last_seen_at",
            "missing_since",
            "rendition",
            "retired",
        ]
        read_only_fields = fields

    def get_retired(self, copy: Copy) -> bool:
        """Return whether a newer version of the photograph supersedes this copy's rendition."""
        return bool(getattr(copy, "retired", False))


class CopyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CopySerializer
    queryset = Copy.objects.none()
    filterset_class = CopyFilter
    ordering_fields = ["path", "size", "last_seen_at"]

    def get_queryset(self) -> QuerySet[Copy]:
        return with_retired(copies_visible_to(user=signed_in_user(self.request))).order_by(
            "source__name", "path"
        )
