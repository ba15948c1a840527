"""API for privacy cases and their decisions (legal role)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import call_service, signed_in_user, validated_params
from governance.permissions import ModelPermissions
from governance.privacy.models import ConsentRecord, PrivacyCase, PrivacyDecision
from governance.privacy.selectors.cases import cases_queue, decision_awaiting_approval
from governance.privacy.services.decisions import privacy_case_decide, privacy_decision_review
from inventory.models import Face
from inventory.selectors.visibility import copies_visible_to


class PrivacyDecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)
    approved = serializers.SerializerMethodField()

    class Meta:
        model = PrivacyDecision
        fields = [
            "id",
            "outcome",
            "reason",
            "legal_basis",
            "consent",
            "supersedes",
            "needs_approval",
            "approved",
            "master_copy_id",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields

    def get_approved(self, decision: PrivacyDecision) -> bool | None:
        approval = getattr(decision, "approval", None)
        return approval.approved if approval else None


class PrivacyCaseSerializer(serializers.ModelSerializer):
    assigned_to = serializers.CharField(source="assigned_to.username", default=None)
    current_decision = PrivacyDecisionSerializer(read_only=True)

    class Meta:
        model = PrivacyCase
        fields = [
            "id",
            "asset",
            "status",
            "opened_because",
            "opened_at",
            "due_on",
            "assigned_to",
            "holdings",
            "external",
            "identifiable_faces",
            "current_decision",
            "merged_into",
        ]
        read_only_fields = fields


class FaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Face
        fields = ["id", "rendition", "left", "top", "width", "height", "score", "identifiable"]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=PrivacyDecision.Outcome.choices)
    reason = serializers.CharField(max_length=5000)
    legal_basis = serializers.CharField(max_length=300, required=False, allow_blank=True)
    consent = serializers.IntegerField(required=False, allow_null=True)


class ReviewSerializer(serializers.Serializer):
    approved = serializers.BooleanField()
    reason = serializers.CharField(max_length=5000)


class LegalOnly(ModelPermissions):
    """Reads need privacy.view_privacycase; the services check the right to decide."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("privacy.view_privacycase")
        )


class PrivacyCaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Privacy cases, oldest due first; POST decide/ and review/ record legal rulings."""

    serializer_class = PrivacyCaseSerializer
    permission_classes = [IsAuthenticated, LegalOnly]
    queryset = PrivacyCase.objects.none()
    filterset_fields = ["status", "external"]

    def get_queryset(self) -> QuerySet[PrivacyCase]:
        visible = copies_visible_to(user=signed_in_user(self.request)).values("rendition__asset_id")
        return (
            PrivacyCase.objects.filter(asset_id__in=visible)
            .exclude(status=PrivacyCase.Status.MERGED)
            .select_related("assigned_to", "current_decision__decided_by")
            .order_by("due_on", "pk")
        )

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.action == "list" and "status" not in self.request.query_params:
            queryset = queryset.filter(pk__in=cases_queue().values("pk"))
        return super().filter_queryset(queryset)

    @extend_schema(responses=FaceSerializer(many=True))
    @action(detail=True, methods=["get"])
    def faces(self, request: Request, pk: str | None = None) -> Response:
        """The faces found in the case's photograph, in original upright pixels."""
        case = self.get_object()
        faces = Face.objects.filter(rendition__asset_id=case.asset_id).order_by("pk")
        return Response(FaceSerializer(faces, many=True).data)

    @extend_schema(request=DecideSerializer, responses={201: PrivacyDecisionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Record a decision on every copy of the case's photograph."""
        case = self.get_object()
        data = validated_params(DecideSerializer, request)
        consent = None
        if data.get("consent") is not None:
            consent = ConsentRecord.objects.filter(pk=data["consent"]).first()
            if consent is None:
                raise ValidationError({"consent": [f"no consent record {data['consent']}"]})
        decision = call_service(
            lambda: privacy_case_decide(
                case=case,
                outcome=data["outcome"],
                reason=data["reason"],
                legal_basis=data.get("legal_basis", ""),
                consent=consent,
                decided_by=signed_in_user(request),
            )
        )
        return Response(PrivacyDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewSerializer, responses={201: PrivacyDecisionSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Approve or reject the decision waiting for a second legal reviewer."""
        case = self.get_object()
        params = ReviewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        decision = decision_awaiting_approval(case)
        if decision is None:
            raise ValidationError({"detail": ["no decision on this case awaits approval"]})
        call_service(
            lambda: privacy_decision_review(
                decision=decision, decided_by=signed_in_user(request), **params.validated_data
            )
        )
        decision.refresh_from_db()
        return Response(PrivacyDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
