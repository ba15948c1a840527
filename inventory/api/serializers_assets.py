"""API representations of assets, licences and exposures; every field listed explicitly."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import Department
from inventory.models import Asset, CatalogueNumber, Licence, Match, Source, Supersession
from inventory.selectors_licences import licence_state, today


class CatalogueNumberSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueNumber
        fields = ["scheme", "number"]


class SupersessionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    withdrawn_by = serializers.CharField(
        source="withdrawn_by.username", read_only=True, default=None
    )

    class Meta:
        model = Supersession
        fields = [
            "id",
            "newer",
            "older",
            "reason",
            "created_by",
            "created_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_reason",
        ]
        read_only_fields = fields


class AssetSerializer(serializers.ModelSerializer):
    """An asset; the view puts each asset's master (selectors_assets.asset_masters) and the
    retired renditions in the serializer context."""

    catalogue_numbers = CatalogueNumberSerializer(many=True, read_only=True)
    master = serializers.SerializerMethodField()
    renditions = serializers.SerializerMethodField()
    licences = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    licence_state = serializers.SerializerMethodField()
    supersessions = SupersessionSerializer(many=True, read_only=True)

    class Meta:
        model = Asset
        fields = [
            "id",
            "title",
            "description",
            "creator",
            "credit_line",
            "rights_holder",
            "catalogue_numbers",
            "master",
            "renditions",
            "licences",
            "licence_state",
            "supersessions",
            "created_at",
        ]
        read_only_fields = fields

    def get_master(self, asset: Asset) -> dict:
        master = self.context["masters"][asset.pk]
        copy = master.copy
        return {
            "copy": copy.pk if copy else None,
            "source": copy.source.name if copy else None,
            "path": copy.path if copy else None,
            "rendition": copy.rendition_id if copy else None,
            "basis": master.basis,
            "needs_review": master.needs_review,
            "review_reason": master.review_reason,
            "set_by": asset.master_set_by.username if asset.master_set_by else None,
            "set_at": asset.master_set_at,
            "reason": asset.master_reason,
        }

    def get_renditions(self, asset: Asset) -> list[dict]:
        retired = self.context.get("retired", set())
        return [
            {
                "id": r.pk,
                "format": r.format,
                "width": r.width,
                "height": r.height,
                "retired": r.pk in retired,
            }
            for r in asset.renditions.all()
        ]

    def get_licence_state(self, asset: Asset) -> str:
        return licence_state(list(asset.licences.all()), self.context.get("day") or today())


class AssetCatalogueSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    creator = serializers.CharField(max_length=300, required=False, allow_blank=True)
    credit_line = serializers.CharField(max_length=500, required=False, allow_blank=True)
    rights_holder = serializers.CharField(max_length=300, required=False, allow_blank=True)
    catalogue_numbers = CatalogueNumberSerializer(many=True, required=False)


class SetMasterSerializer(serializers.Serializer):
    copy = serializers.IntegerField(allow_null=True, help_text="a present copy; null: the rule")
    reason = serializers.CharField(max_length=5000)


class MergeSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="the asset that is the same photograph")
    reason = serializers.CharField(max_length=5000)
    relation = serializers.ChoiceField(
        choices=[r for r in Match.RELATIONS if r != "similar"], required=False, default="edited"
    )


class SplitSerializer(serializers.Serializer):
    # Ids are 64-bit in the database; a larger number is a 400, not an overflow in the query.
    renditions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1
    )
    reason = serializers.CharField(max_length=5000)


class SupersedeSerializer(serializers.Serializer):
    newer = serializers.IntegerField()
    older = serializers.IntegerField()
    reason = serializers.CharField(max_length=5000)


class WithdrawSupersessionSerializer(serializers.Serializer):
    supersession = serializers.IntegerField(help_text="a standing supersession of the asset")
    reason = serializers.CharField(max_length=5000)


class LicenceSerializer(serializers.ModelSerializer):
    departments = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Department.objects.all(), required=False
    )
    sources = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Source.objects.all(), required=False
    )
    assets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Licence
        fields = [
            "id",
            "licensor",
            "reference",
            "permitted_uses",
            "departments",
            "sources",
            "start",
            "end",
            "cost",
            "currency",
            "assets",
            "in_force",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "assets", "in_force", "created_by", "created_at"]

    def get_in_force(self, licence: Licence) -> bool:
        return licence.in_force_on(today())


class LicenceAttachSerializer(serializers.Serializer):
    asset = serializers.IntegerField()
