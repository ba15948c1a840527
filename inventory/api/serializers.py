"""API representations of the inventory; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from inventory.models import Copy, Match, MatchDecision, Rendition, Scan, ScanError, Source


class SourceSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Source
        fields = ["id", "name", "root", "department", "risk_tier", "authoritative", "created_at"]
        read_only_fields = fields


class SourceRegisterSerializer(serializers.Serializer):
    root = serializers.CharField(max_length=1024)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    department = serializers.CharField(max_length=32, required=False, allow_blank=True)
    risk_tier = serializers.ChoiceField(choices=Source.RiskTier.choices, default="internal")
    authoritative = serializers.BooleanField(default=False)


class ScanSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    rate = serializers.FloatField(read_only=True, allow_null=True)
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Scan
        fields = [
            "id",
            "source",
            "status",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "software_version",
            "parameters",
            "failure_reason",
            "files_seen",
            "bytes_seen",
            "files_to_examine",
            "files_examined",
            "files_new",
            "files_changed",
            "files_unchanged",
            "files_moved",
            "files_missing",
            "files_skipped",
            "errors",
            "duplicate_groups",
            "reclaimable_bytes",
            "timings",
            "rate",
            "eta_seconds",
        ]
        read_only_fields = fields


class ScanErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScanError
        fields = ["id", "scan", "path", "error"]
        read_only_fields = fields


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
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
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


class GroupMemberSerializer(serializers.Serializer):
    copy_id = serializers.IntegerField(source="copy.pk")
    source = serializers.CharField(source="copy.source.name")
    path = serializers.CharField(source="copy.path")
    size = serializers.IntegerField(source="copy.size")
    sha256 = serializers.CharField(source="copy.sha256")
    relation = serializers.CharField()
    tier = serializers.CharField()
    distance = serializers.IntegerField()
    reviewed = serializers.BooleanField()
    retired = serializers.BooleanField()


class DuplicateGroupSerializer(serializers.Serializer):
    asset = serializers.IntegerField(source="asset_id")
    reclaimable_bytes = serializers.IntegerField()
    members = GroupMemberSerializer(many=True)


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
