"""API representations of the governance records; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import AuditEvent


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
