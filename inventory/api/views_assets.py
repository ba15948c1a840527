"""Thin API views over assets, licences and licence exposures."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import call_service, validated_params
from inventory.api.serializers_assets import (
    AssetCatalogueSerializer,
    AssetSerializer,
    LicenceAttachSerializer,
    LicenceSerializer,
    MergeSerializer,
    SetMasterSerializer,
    SplitSerializer,
    SupersedeSerializer,
    WithdrawSupersessionSerializer,
)
from inventory.models import Asset, Licence, Rendition, Supersession
from inventory.selectors import copies_visible_to, retired_rendition_ids, sources_visible_to
from inventory.selectors_assets import (
    asset_masters,
    assets_in_sources,
    assets_search,
    assets_visible_to,
)
from inventory.selectors_licences import (
    LICENCE_STATES,
    assets_by_licence_state,
    licence_exposures,
    licences_visible_to,
    today,
)
from inventory.services.assets import (
    asset_catalogue_update,
    asset_master_set,
    asset_split,
    assets_merge,
    rendition_supersede,
    supersession_withdraw,
)
from inventory.services.licences import (
    licence_attach,
    licence_create,
    licence_delete,
    licence_detach,
    licence_update,
)

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

    def get_queryset(self):
        user = self.request.user
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
            "retired": retired_rendition_ids(rendition_ids),
            "day": today(),
        }

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = AssetSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
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
            copy = get_object_or_404(copies_visible_to(user=request.user), pk=data["copy"])
        call_service(
            lambda: asset_master_set(
                asset=asset, copy=copy, user=request.user, reason=data["reason"]
            )
        )
        return self._done(asset.pk)

    @extend_schema(request=MergeSerializer, responses=AssetSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Say another asset is the same photograph; returns the asset holding both."""
        asset = self.get_object()
        data = validated_params(MergeSerializer, request)
        other = get_object_or_404(assets_visible_to(user=request.user), pk=data["other"])
        merged = call_service(
            lambda: assets_merge(
                asset=asset,
                other=other,
                user=request.user,
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
                asset=asset, renditions=data["renditions"], user=request.user, reason=data["reason"]
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
                asset=asset, newer=newer, older=older, user=request.user, reason=data["reason"]
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
                supersession=statement, user=request.user, reason=data["reason"]
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
                asset=asset, user=request.user, fields=data, numbers=numbers
            )
        )
        return self._done(asset.pk)


class LicenceViewSet(viewsets.ModelViewSet):
    """Licences: everyone with the inventory roles reads; compliance and administrators write.

    POST .../attach/ and .../detach/ with {"asset": id} attach or detach the licence.
    """

    serializer_class = LicenceSerializer
    queryset = Licence.objects.none()
    filterset_fields = ["licensor", "reference"]

    def get_queryset(self):
        return (
            licences_visible_to(user=self.request.user)
            .select_related("created_by")
            .prefetch_related("assets")
            .order_by("licensor", "reference", "pk")
        )

    def perform_create(self, serializer: LicenceSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = call_service(lambda: licence_create(user=self.request.user, **data))

    def perform_update(self, serializer: LicenceSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = call_service(
            lambda: licence_update(licence=serializer.instance, user=self.request.user, **data)
        )

    def perform_destroy(self, instance: Licence) -> None:
        call_service(lambda: licence_delete(licence=instance, user=self.request.user))

    def _attachment(self, request: Request, attach: bool) -> Response:
        licence = self.get_object()
        data = validated_params(LicenceAttachSerializer, request)
        asset = get_object_or_404(assets_visible_to(user=request.user), pk=data["asset"])
        service = licence_attach if attach else licence_detach
        call_service(lambda: service(licence=licence, asset=asset, user=request.user))
        licence = self.get_queryset().get(pk=licence.pk)
        return Response(
            LicenceSerializer(licence).data,
            status=status.HTTP_201_CREATED if attach else status.HTTP_200_OK,
        )

    @extend_schema(request=LicenceAttachSerializer, responses={201: LicenceSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def attach(self, request: Request, pk: str | None = None) -> Response:
        """Attach the licence to an asset."""
        return self._attachment(request, attach=True)

    @extend_schema(request=LicenceAttachSerializer, responses=LicenceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def detach(self, request: Request, pk: str | None = None) -> Response:
        """Detach the licence from an asset."""
        return self._attachment(request, attach=False)


def _copy_row(copy) -> dict:
    return {"copy": copy.pk, "source": copy.source.name, "path": copy.path}


def _licence_row(licence: Licence) -> dict:
    return {
        "id": licence.pk,
        "licensor": licence.licensor,
        "reference": licence.reference,
        "start": licence.start,
        "end": licence.end,
        "cost": str(licence.cost),
        "currency": licence.currency,
    }


class ExposureList(APIView):
    """Copies held outside their licences, licences ended with copies held, bought twice."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("inventory.view_licence"):
            raise PermissionDenied("your role may not see licences")
        exposures = licence_exposures(user=request.user)
        return Response(
            {
                "date": today(),
                "uncovered": [
                    {
                        "asset": u.asset_id,
                        **_copy_row(u.copy),
                        "licences": [lic.pk for lic in u.licences],
                        "reason": u.reason,
                    }
                    for u in exposures.uncovered
                ],
                "expired": [
                    {
                        "asset": e.asset.pk,
                        "ended": e.ended,
                        "licences": [_licence_row(lic) for lic in e.licences],
                        "copies": [_copy_row(c) for c in e.copies],
                    }
                    for e in exposures.expired
                ],
                "bought_twice": [
                    {
                        "asset": b.asset.pk,
                        "licences": [_licence_row(lic) for lic in b.licences],
                        "costs": {currency: str(cost) for currency, cost in b.costs.items()},
                    }
                    for b in exposures.bought_twice
                ],
            }
        )
