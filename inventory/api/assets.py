"""API representations of assets, licences and exposures; every field listed explicitly."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.services import call_service, signed_in_user, validated_params
from inventory.models import Asset, CatalogueNumber, Licence, Match, Rendition, Supersession
from inventory.selectors.assets import (
    asset_masters,
    assets_in_sources,
    assets_search,
    assets_visible_to,
)
from inventory.selectors.groups import retired_rendition_ids
from inventory.selectors.licences import (
    LICENCE_STATES,
    assets_by_licence_state,
    licence_state,
    today,
)
from inventory.selectors.visibility import (
    copies_visible_to,
    member_scope_for,
    sources_visible_to,
)
from inventory.services.assets import (
    asset_catalogue_update,
    asset_master_set,
    asset_split,
    assets_merge,
    rendition_supersede,
    supersession_withdraw,
)


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
    licences: serializers.PrimaryKeyRelatedField[Licence] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
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
        scope = self.context.get("scope")
        # A master in another department's source: said so, not named (MemberScope).
        elsewhere = copy is not None and scope is not None and not scope.shows(copy)
        if elsewhere:
            copy = None
        return {
            "in_another_department": elsewhere,
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


_FILTERS = [
    OpenApiParameter("department", str, description="assets with a present copy in its sources"),
    OpenApiParameter("source", str, description="assets with a present copy in this source"),
    OpenApiParameter("licence", str, enum=list(LICENCE_STATES)),
    OpenApiParameter("q", str, description="title or catalogue number contains"),
]


@extend_schema(parameters=_FILTERS)
class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """Assets (photographs); POST actions set-master, merge, split, supersede,
    withdraw-supersession, catalogue."""

    serializer_class = AssetSerializer
    queryset = Asset.objects.none()
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Asset]:
        user = signed_in_user(self.request)
        params = self.request.query_params
        assets = assets_visible_to(user=user)
        sources = sources_visible_to(user=user)
        if params.get("department"):
            assets = assets_in_sources(
                assets=assets, sources=sources.filter(department__code=params["department"])
            )
        if params.get("source"):
            assets = assets_in_sources(assets=assets, sources=sources.filter(name=params["source"]))
        state = params.get("licence")
        if state:
            if state not in LICENCE_STATES:
                raise ValidationError({"licence": [f"one of {', '.join(LICENCE_STATES)}"]})
            assets = assets_by_licence_state(assets=assets, state=state, user=user)
        if params.get("q"):
            assets = assets_search(assets=assets, text=params["q"])
        return (
            assets.select_related("master_set_by")
            .prefetch_related(
                "catalogue_numbers",
                "licences",
                Prefetch("renditions", queryset=Rendition.objects.order_by("pk")),
                Prefetch(
                    "supersessions",
                    queryset=Supersession.objects.select_related("created_by", "withdrawn_by"),
                ),
            )
            .order_by("pk")
        )

    def _context(self, assets: list[Asset]) -> dict:
        rendition_ids = [r.pk for a in assets for r in a.renditions.all()]
        return {
            **self.get_serializer_context(),
            "masters": asset_masters(assets=assets),
            "scope": member_scope_for(user=signed_in_user(self.request)),
            "retired": retired_rendition_ids(rendition_ids),
            "day": today(),
        }

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        if page is None:  # pagination switched off in the settings: every asset at once
            assets = list(queryset)
            return Response(AssetSerializer(assets, many=True, context=self._context(assets)).data)
        data = AssetSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asset = self.get_object()
        return Response(AssetSerializer(asset, context=self._context([asset])).data)

    def _done(self, pk: int) -> Response:
        asset = self.get_queryset().get(pk=pk)
        return Response(AssetSerializer(asset, context=self._context([asset])).data)

    @extend_schema(request=SetMasterSerializer, responses=AssetSerializer)
    @action(
        detail=True, methods=["post"], url_path="set-master", permission_classes=[IsAuthenticated]
    )
    def set_master(self, request: Request, pk: str | None = None) -> Response:
        """Choose the master copy with a reason (copy null: back to the master rule)."""
        asset = self.get_object()
        data = validated_params(SetMasterSerializer, request)
        copy = None
        if data["copy"] is not None:
            copy = get_object_or_404(
                copies_visible_to(user=signed_in_user(request)), pk=data["copy"]
            )
        call_service(
            lambda: asset_master_set(
                asset=asset, copy=copy, user=signed_in_user(request), reason=data["reason"]
            )
        )
        return self._done(asset.pk)

    @extend_schema(request=MergeSerializer, responses=AssetSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Say another asset is the same photograph; returns the asset holding both."""
        asset = self.get_object()
        data = validated_params(MergeSerializer, request)
        other = get_object_or_404(assets_visible_to(user=signed_in_user(request)), pk=data["other"])
        merged = call_service(
            lambda: assets_merge(
                asset=asset,
                other=other,
                user=signed_in_user(request),
                reason=data["reason"],
                relation=data["relation"],
            )
        )
        return self._done(merged.pk)

    @extend_schema(request=SplitSerializer, responses=AssetSerializer(many=True))
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Split renditions off; returns every asset that now holds a former member."""
        asset = self.get_object()
        data = validated_params(SplitSerializer, request)
        assets = call_service(
            lambda: asset_split(
                asset=asset,
                renditions=data["renditions"],
                user=signed_in_user(request),
                reason=data["reason"],
            )
        )
        fresh = list(self.get_queryset().filter(pk__in=[a.pk for a in assets]))
        return Response(AssetSerializer(fresh, many=True, context=self._context(fresh)).data)

    @extend_schema(request=SupersedeSerializer, responses=AssetSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def supersede(self, request: Request, pk: str | None = None) -> Response:
        """Say a newer rendition replaces an older one (retired, kept)."""
        asset = self.get_object()
        data = validated_params(SupersedeSerializer, request)
        newer = get_object_or_404(Rendition, pk=data["newer"], asset=asset)
        older = get_object_or_404(Rendition, pk=data["older"], asset=asset)
        call_service(
            lambda: rendition_supersede(
                asset=asset,
                newer=newer,
                older=older,
                user=signed_in_user(request),
                reason=data["reason"],
            )
        )
        return self._done(asset.pk)

    @extend_schema(request=WithdrawSupersessionSerializer, responses=AssetSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="withdraw-supersession",
        permission_classes=[IsAuthenticated],
    )
    def withdraw_supersession(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a supersession with a reason: the older rendition is no longer retired."""
        asset = self.get_object()
        data = validated_params(WithdrawSupersessionSerializer, request)
        statement = get_object_or_404(Supersession, pk=data["supersession"], asset=asset)
        call_service(
            lambda: supersession_withdraw(
                supersession=statement, user=signed_in_user(request), reason=data["reason"]
            )
        )
        return self._done(asset.pk)

    @extend_schema(request=AssetCatalogueSerializer, responses=AssetSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def catalogue(self, request: Request, pk: str | None = None) -> Response:
        """Set catalogue fields (blank: unchanged) and add catalogue numbers."""
        asset = self.get_object()
        data = validated_params(AssetCatalogueSerializer, request)
        numbers = [(n["scheme"], n["number"]) for n in data.pop("catalogue_numbers", [])]
        call_service(
            lambda: asset_catalogue_update(
                asset=asset, user=signed_in_user(request), fields=data, numbers=numbers
            )
        )
        return self._done(asset.pk)
