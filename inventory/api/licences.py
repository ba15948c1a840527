"""API representations of assets, licences and exposures; every field listed explicitly."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.services import call_service, signed_in_user, validated_params
from governance.models import Department
from inventory.models import Asset, Copy, Licence, Source
from inventory.selectors.assets import (
    assets_visible_to,
)
from inventory.selectors.licences import (
    licence_exposures,
    licences_visible_to,
    today,
)
from inventory.services.licences import (
    licence_attach,
    licence_create,
    licence_delete,
    licence_detach,
    licence_update,
)


class LicenceSerializer(serializers.ModelSerializer):
    departments = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Department.objects.all(), required=False
    )
    sources = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Source.objects.all(), required=False
    )
    assets: serializers.PrimaryKeyRelatedField[Asset] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
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


class LicenceViewSet(viewsets.ModelViewSet):
    """Licences: everyone with the inventory roles reads; compliance and administrators write.

    POST .../attach/ and .../detach/ with {"asset": id} attach or detach the licence.
    """

    serializer_class = LicenceSerializer
    queryset = Licence.objects.none()
    filterset_fields = ["licensor", "reference"]

    def get_queryset(self) -> QuerySet[Licence]:
        return (
            licences_visible_to(user=signed_in_user(self.request))
            .select_related("created_by")
            .prefetch_related("assets")
            .order_by("licensor", "reference", "pk")
        )

    def perform_create(self, serializer: serializers.BaseSerializer[Licence]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = call_service(
            lambda: licence_create(user=signed_in_user(self.request), **data)
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Licence]) -> None:
        data = dict(serializer.validated_data)
        licence = serializer.instance
        assert isinstance(licence, Licence)  # update() hands the serializer the licence it found
        serializer.instance = call_service(
            lambda: licence_update(licence=licence, user=signed_in_user(self.request), **data)
        )

    def perform_destroy(self, instance: Licence) -> None:
        call_service(lambda: licence_delete(licence=instance, user=signed_in_user(self.request)))

    def _attachment(self, request: Request, attach: bool) -> Response:
        licence = self.get_object()
        data = validated_params(LicenceAttachSerializer, request)
        asset = get_object_or_404(assets_visible_to(user=signed_in_user(request)), pk=data["asset"])
        service = licence_attach if attach else licence_detach
        call_service(lambda: service(licence=licence, asset=asset, user=signed_in_user(request)))
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


def _copy_row(copy: Copy) -> dict:
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
        exposures = licence_exposures(user=signed_in_user(request))
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
