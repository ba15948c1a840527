"""The site's URLs: pages, the API, its schema and docs, and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("api/", include("reports.api.urls")),
    path("", include("governance.audit_urls")),
    path("api/", include("inventory.api.urls")),
    path("reports/", include("reports.urls")),
    path("", include("inventory.urls")),
]
