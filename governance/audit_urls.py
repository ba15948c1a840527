"""URLs of the audit log: the page and the read-only API."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance import views
from governance.api.views import AuditEventViewSet

router = SimpleRouter()
router.register("api/audit-events", AuditEventViewSet, basename="auditevent")

urlpatterns = [
    path("audit/", views.audit_log, name="audit-log"),
    *router.urls,
]
