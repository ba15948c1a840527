"""API representations of reports; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import User
from reports.models import Report


class ReportSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "number",
            "kind",
            "scope",
            "status",
            "progress",
            "error",
            "created_by",
            "created_at",
            "finished_at",
            "software_version",
            "pages",
            "size",
            "sha256",
            "signed",
            "signer_subject",
            "signer_certificate_sha256",
            "signed_at",
            "timestamped",
            "audit_head_hash",
            "audit_head_seq",
            "audit_event_count",
            "figures",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, report: Report) -> str | None:
        if not report.is_finished:
            return None
        request = self.context.get("request")
        path = f"/api/reports/{report.number}/download/"
        return request.build_absolute_uri(path) if request else path


class ReportBuildSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    sources = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    departments = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list
    )
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    sign = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if attrs["date_from"] and attrs["date_to"] and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["the period ends before it starts"]})
        return attrs


class CheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True, help_text="null: not checked")
    status = serializers.ChoiceField(choices=["pass", "fail", "not checked"])
    detail = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    signer_subject = serializers.CharField()
    certificate_sha256 = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    timestamped = serializers.BooleanField()
    trusted = serializers.BooleanField()
    report = serializers.CharField(allow_null=True)
    checks = CheckSerializer(many=True)
