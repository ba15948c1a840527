from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory.api import assets, copies, groups, licences, review, scans, sources

router = DefaultRouter()
router.register("sources", sources.SourceViewSet, basename="source")
router.register("scans", scans.ScanViewSet, basename="scan")
router.register("copies", copies.CopyViewSet, basename="copy")
router.register("matches", review.MatchViewSet, basename="match")
router.register("assets", assets.AssetViewSet, basename="asset")
router.register("licences", licences.LicenceViewSet, basename="licence")

urlpatterns = [
    path("groups/", groups.DuplicateGroupList.as_view(), name="api-groups"),
    path("findings/", groups.FindingsExport.as_view(), name="api-findings"),
    path("exposures/", licences.ExposureList.as_view(), name="api-exposures"),
    *router.urls,
]
