"""API representations of remediation tasks; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import Department, User
from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.services.tasks import BULK_ACTIONS


class TaskChangeSerializer(serializers.ModelSerializer):
    user: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = TaskChange
        fields = ["at", "user", "from_status", "to_status", "reason", "detail"]
        read_only_fields = fields


class RemediationTaskSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(source="origin_label", read_only=True)
    decision_type = serializers.CharField(source="origin_type.model", read_only=True)
    decision_id = serializers.IntegerField(source="origin_id", read_only=True)
    # A field named "source" shadows Field.source (a str) in the stubs; DRF's metaclass moves
    # declared fields out of the class attributes, so nothing is shadowed at run time.
    source = serializers.CharField(source="copy.source.name", read_only=True)  # type: ignore[assignment]
    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    waived_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    severity = serializers.CharField(source="get_severity_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RemediationTask
        fields = [
            "id",
            "decision",
            "decision_type",
            "decision_id",
            "copy",
            "source",
            "path",
            "sha256",
            "size",
            "action",
            "personal_data",
            "severity",
            "department",
            "owner",
            "due_date",
            "overdue",
            "status",
            "status_changed_at",
            "waived_reason",
            "waived_by",
            "verified_at",
            "evidence",
            "reopened",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, task: RemediationTask) -> bool:
        return task.is_overdue(self.context["today"])


class TaskStatusSerializer(serializers.Serializer):
    # Any string: the service answers "verified" and "waived" with what to do instead.
    status = serializers.CharField(max_length=32)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    tasks = serializers.ListField(
        # Ids are 64-bit in the database; a larger number is a 400, not an overflow in the query.
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=1000,
    )
    owner = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", help_text="'-': nobody"
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    changed = serializers.IntegerField()


class StatusSummarySerializer(serializers.Serializer):
    date = serializers.DateField()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_department = serializers.DictField(child=serializers.DictField())
    by_age = serializers.DictField(child=serializers.IntegerField())
