"""API routes of the privacy review (legal role)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from governance.privacy.api import cases, requests

router = SimpleRouter()
router.register("privacy/cases", cases.PrivacyCaseViewSet, basename="privacy-case")
router.register("access-requests", requests.AccessRequestViewSet, basename="dsar-api")

urlpatterns = [*router.urls]
