"""API for duplicate groups and the findings export."""

from __future__ import annotations

from itertools import islice

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import signed_in_user
from governance.models import User
from governance.roles import is_organisation_wide
from inventory.selectors.findings import findings_document
from inventory.selectors.groups import duplicate_groups
from inventory.selectors.visibility import member_scope_for, sources_visible_to


class CopyReferenceSerializer(serializers.Serializer):
    source = serializers.CharField(source="source.name")  # type: ignore[assignment]
    path = serializers.CharField()


class GroupMemberSerializer(serializers.Serializer):
    copy_id = serializers.IntegerField(source="copy.pk")
    # A field named "source" shadows Field.source in the stubs; DRF's metaclass moves declared
    # fields out of the class attributes, so nothing is shadowed at run time.
    source = serializers.CharField(source="copy.source.name")  # type: ignore[assignment]
    path = serializers.CharField(source="copy.path")
    size = serializers.IntegerField(source="copy.size")
    sha256 = serializers.CharField(source="copy.sha256")
    relation = serializers.CharField()
    tier = serializers.CharField()
    distance = serializers.IntegerField()
    reviewed = serializers.BooleanField()
    retired = serializers.BooleanField()
    redundant = serializers.BooleanField()
    # The copy the relation is stated against (the parent's kept copy); null for the master.
    of = CopyReferenceSerializer(allow_null=True, read_only=True)


class DuplicateGroupSerializer(serializers.Serializer):
    asset = serializers.IntegerField(source="asset_id")
    reclaimable_bytes = serializers.IntegerField()
    members = GroupMemberSerializer(many=True)
    other_department_copies = serializers.IntegerField(
        source="elsewhere",
        help_text="Copies in sources you may not see: counted, not listed.",
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
        sources = sources_visible_to(user=signed_in_user(request))
        if request.query_params.get("source"):
            sources = sources.filter(name=request.query_params["source"])
        limit = _bounded_int(request, "limit", 100, 1, 1000)
        offset = _bounded_int(request, "offset", 0, 0, 10**9)
        scope = member_scope_for(user=signed_in_user(request))
        groups = list(
            islice(duplicate_groups(sources=sources, scope=scope), offset, offset + limit)
        )
        return Response(DuplicateGroupSerializer(groups, many=True).data)


class FindingsExport(APIView):
    """The findings export (DESIGN.md, version 1) over the sources the user may see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("inventory.export_findings"):
            raise PermissionDenied("your role may not export findings")
        return Response(
            findings_document(
                sources=sources_visible_to(user=signed_in_user(request)),
                scope=member_scope_for(user=signed_in_user(request)),
            )
        )


def _department_for(user: User, code: str | None) -> str | None:
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
