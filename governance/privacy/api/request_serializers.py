"""Serializers of the data access request API (governance/privacy/api/requests.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from governance.privacy.models import (
    AccessRequestRefusal,
    AccessRequestReply,
    DataAccessRequest,
    ReferencePhoto,
    RequestCandidate,
    ResponsePack,
)
from governance.privacy.selectors.requests import (
    days_left as request_days_left,
)
from governance.privacy.selectors.requests import (
    is_overdue,
    open_cases_by_rendition,
    retention_until,
)

_UPLOAD_SLACK = 64 * 1024


class WorksAccessRequests(BasePermission):
    """Reading needs privacy.view_dataaccessrequest, anything else work_dataaccessrequest."""

    message = "only the legal role works data access requests"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm("privacy.view_dataaccessrequest")
        return user.has_perm("privacy.work_dataaccessrequest")


# --- serializers ---------------------------------------------------------------------------


class ReferencePhotoSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    faces = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        read_only=True,
        help_text="Every face found, as [left, top, width, height] in upright pixels.",
    )
    needs_choice = serializers.SerializerMethodField()

    class Meta:
        model = ReferencePhoto
        fields = [
            "id",
            "original_name",
            "sha256",
            "faces",
            "chosen_face",
            "needs_choice",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields

    def get_needs_choice(self, photo: ReferencePhoto) -> bool:
        return photo.chosen_face is None


class ResponsePackSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = ResponsePack
        fields = ["id", "sha256", "copies", "images", "created_by", "created_at", "download"]
        read_only_fields = fields

    def get_download(self, pack: ResponsePack) -> str:
        return f"/api/access-requests/{pack.request_id}/packs/{pack.pk}/download/"


class ReplySerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    late = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequestReply
        fields = [
            "id",
            "kind",
            "pack",
            "sent_on",
            "late",
            "means",
            "reasons",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_late(self, reply: AccessRequestReply) -> bool:
        return reply.sent_on > reply.request.due_on


class RefusalSerializer(serializers.ModelSerializer):
    refused_by = serializers.CharField(source="refused_by.username", read_only=True)
    received_on = serializers.DateField(source="request.received_on", read_only=True)
    due_on = serializers.DateField(source="request.due_on", read_only=True)

    class Meta:
        model = AccessRequestRefusal
        fields = [
            "id",
            "request",
            "received_on",
            "due_on",
            "ground",
            "reasons",
            "notified_on",
            "refused_by",
            "refused_at",
        ]
        read_only_fields = fields


class AccessRequestSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    days_left = serializers.SerializerMethodField()
    candidates = serializers.IntegerField(source="candidate_count", read_only=True, default=0)
    confirmed = serializers.IntegerField(source="confirmed_count", read_only=True, default=0)
    reference_photos = ReferencePhotoSerializer(many=True, read_only=True)
    response_packs = ResponsePackSerializer(many=True, read_only=True)
    overdue = serializers.SerializerMethodField()
    replies = ReplySerializer(many=True, read_only=True)
    refusal = serializers.SerializerMethodField()
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, default=None)
    retention_until = serializers.SerializerMethodField()

    class Meta:
        model = DataAccessRequest
        fields = [
            "id",
            "subject_reference",
            "received_on",
            "due_on",
            "days_left",
            "status",
            "notes",
            "created_by",
            "created_at",
            "responded_at",
            "overdue",
            "reminder",
            "reminded_at",
            "candidates",
            "confirmed",
            "reference_photos",
            "response_packs",
            "replies",
            "refusal",
            "closed_at",
            "closed_by",
            "close_note",
            "retention_until",
            "data_purged_at",
        ]
        read_only_fields = fields

    def get_days_left(self, request: DataAccessRequest) -> int:
        return request_days_left(request=request)

    def get_overdue(self, request: DataAccessRequest) -> bool:
        return is_overdue(request=request)

    @extend_schema_field(RefusalSerializer(allow_null=True))
    def get_refusal(self, request: DataAccessRequest) -> dict | None:
        refusal = AccessRequestRefusal.objects.filter(request=request).first()
        return RefusalSerializer(refusal).data if refusal else None

    def get_retention_until(self, request: DataAccessRequest) -> datetime | None:
        return retention_until(request=request)


class AccessRequestCreateSerializer(serializers.Serializer):
    subject_reference = serializers.CharField(max_length=200)
    received_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class CandidateSerializer(serializers.ModelSerializer):
    rendition = serializers.IntegerField(source="face.rendition_id", read_only=True)
    asset = serializers.IntegerField(source="face.rendition.asset_id", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)
    copies = serializers.SerializerMethodField()
    privacy_cases = serializers.SerializerMethodField()

    class Meta:
        model = RequestCandidate
        fields = [
            "id",
            "face",
            "rendition",
            "asset",
            "distance",
            "confirmed",
            "decided_by",
            "decided_at",
            "copies",
            "privacy_cases",
        ]
        read_only_fields = fields

    def get_privacy_cases(self, candidate: RequestCandidate) -> list[int]:
        """The privacy cases awaiting a decision on the candidate's photograph."""
        cases = self.context.get("open_cases")
        if cases is None:
            cases = open_cases_by_rendition(rendition_ids=[candidate.face.rendition_id])
        return [case.pk for case in cases.get(candidate.face.rendition_id, [])]

    def get_copies(self, candidate: RequestCandidate) -> list[dict]:
        return [
            {"source": copy.source.name, "path": copy.path}
            for copy in candidate.face.rendition.copies.all()
        ]


class AccessRequestSearchResultSerializer(serializers.Serializer):
    references = serializers.IntegerField()
    searched = serializers.IntegerField()
    candidates = serializers.IntegerField()
    new = serializers.IntegerField()
    dropped = serializers.IntegerField()
    undecryptable = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())


class ReferenceFaceChoiceSerializer(serializers.Serializer):
    face = serializers.IntegerField(min_value=0, help_text="Index into the photo's faces.")


class CandidateDecideSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField(help_text="true: this is the subject; false: not them.")


class ReplyRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccessRequestReply.Kind.choices)
    pack = serializers.IntegerField(required=False, allow_null=True, default=None)
    sent_on = serializers.DateField()
    means = serializers.CharField(max_length=200)
    reasons = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")


class RefuseSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(choices=AccessRequestRefusal.Ground.choices)
    reasons = serializers.CharField(max_length=10000)
    notified_on = serializers.DateField()


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


# --- views ---------------------------------------------------------------------------------
