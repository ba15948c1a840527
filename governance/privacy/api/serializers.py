"""Serializers for privacy cases and decisions (legal role only)."""

from __future__ import annotations

from rest_framework import serializers

from governance.privacy.models import PrivacyCase, PrivacyDecision
from inventory.models import Face


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
