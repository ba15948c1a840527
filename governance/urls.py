"""The site's URLs: pages, the API, its schema and docs, and the admin."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance import language
from governance.api.views import ApiTokenDetailView, ApiTokenListView, AuthTokenView
from governance.privacy.views import images
from governance.views import tokens
from reports.views import audit

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no
    # inline script. Swagger UI adds <style> elements as it renders, so this page allows those.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("api/token/", AuthTokenView.as_view(), name="api-token"),
    path("api/tokens/", ApiTokenListView.as_view(), name="api-token-list"),
    path("api/tokens/<int:pk>/", ApiTokenDetailView.as_view(), name="api-token-detail"),
    path("account/language/", language.language_set, name="language-set"),
    path("account/tokens/", tokens.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("api/", include("reports.api.urls")),
    path("audit/", audit.audit_log, name="audit-log"),
    path("api/", include("inventory.api.urls")),
    path("api/", include("governance.privacy.api.urls")),
    path("reports/", include("reports.urls")),
    path("privacy/", include("governance.privacy.urls")),
    path("api/", include("governance.remediation.api.urls")),
    path("remediation/", include("governance.remediation.urls")),
    path("thumbnails/<int:pk>.jpg", images.thumbnail, name="thumbnail"),
    path("", include("inventory.urls")),
]
