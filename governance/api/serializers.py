"""API representations of the governance records; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import ApiToken, AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "event_type",
            "agent",
            "agent_user",
            "object_type",
            "object_id",
            "source_id",
            "outcome",
            "detail",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "label", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class IssuedTokenSerializer(serializers.Serializer):
    """A token just issued: its key, shown this once, and when it expires."""

    token = serializers.CharField()
    id = serializers.IntegerField()
    prefix = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like DRF's attribute, in the stubs only
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
