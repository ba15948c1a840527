from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory.api import views, views_assets

router = DefaultRouter()
router.register("sources", views.SourceViewSet, basename="source")
router.register("scans", views.ScanViewSet, basename="scan")
router.register("copies", views.CopyViewSet, basename="copy")
router.register("matches", views.MatchViewSet, basename="match")
router.register("assets", views_assets.AssetViewSet, basename="asset")
router.register("licences", views_assets.LicenceViewSet, basename="licence")

urlpatterns = [
    path("groups/", views.DuplicateGroupList.as_view(), name="api-groups"),
    path("findings/", views.FindingsExport.as_view(), name="api-findings"),
    path("exposures/", views_assets.ExposureList.as_view(), name="api-exposures"),
    *router.urls,
]
