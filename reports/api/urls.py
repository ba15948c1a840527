from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from reports.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = [
    path("reports/verify/", views.ReportVerifyView.as_view(), name="api-report-verify"),
    *router.urls,
]
