from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from governance.remediation.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("remediation/tasks", views.RemediationTaskViewSet, basename="remediation-task")

urlpatterns = [
    path("remediation/status/", views.RemediationStatusView.as_view(), name="remediation-summary"),
    *router.urls,
]
