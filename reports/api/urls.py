from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from reports.api import audit, reports

router = DefaultRouter()
router.include_root_view = False
router.register("reports", reports.ReportViewSet, basename="report")
router.register("audit-events", audit.AuditEventViewSet, basename="auditevent")

urlpatterns = [
    path("reports/verify/", reports.ReportVerifyView.as_view(), name="api-report-verify"),
    *router.urls,
]
