from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from inventory.api import views

router = DefaultRouter()
router.register("sources", views.SourceViewSet, basename="source")
router.register("scans", views.ScanViewSet, basename="scan")
router.register("copies", views.CopyViewSet, basename="copy")
router.register("matches", views.MatchViewSet, basename="match")

urlpatterns = [
    path("groups/", views.DuplicateGroupList.as_view(), name="api-groups"),
    path("findings/", views.FindingsExport.as_view(), name="api-findings"),
    *router.urls,
]
