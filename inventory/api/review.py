"""API for matches and their review."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.services import call_service, signed_in_user, validated_params
from inventory.models import Match, MatchDecision
from inventory.selectors.review import matches_visible_to
from inventory.services.review import match_decide


class MatchDecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", read_only=True)

    class Meta:
        model = MatchDecision
        fields = ["id", "verdict", "relation", "reason", "decided_by", "decided_at"]
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    decisions = MatchDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Match
        fields = [
            "id",
            "rendition_a",
            "rendition_b",
            "tier",
            "relation",
            "score",
            "distance",
            "original",
            "evidence",
            "status",
            "created_at",
            "updated_at",
            "decisions",
        ]
        read_only_fields = fields


class MatchDecideSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=MatchDecision.Verdict.choices)
    relation = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=5000)


class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Near-duplicate matches; POST .../decide/ records a reviewer's ruling."""

    serializer_class = MatchSerializer
    queryset = Match.objects.none()
    filterset_fields = ["status", "tier", "relation"]

    def get_queryset(self) -> QuerySet[Match]:
        return (
            matches_visible_to(user=signed_in_user(self.request))
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
        decision = call_service(
            lambda: match_decide(match=match, user=signed_in_user(request), **params)
        )
        return Response(MatchDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
