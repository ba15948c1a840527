from __future__ import annotations

from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sources/", views.source_list, name="source-list"),
    path("sources/<slug:name>/", views.source_detail, name="source-detail"),
    path("sources/<slug:name>/scan/", views.source_scan, name="source-scan"),
    path("scans/", views.scan_list, name="scan-list"),
    path("scans/<int:pk>/", views.scan_detail, name="scan-detail"),
    path("copies/", views.copy_list, name="copy-list"),
    path("copies/<int:pk>/", views.copy_detail, name="copy-detail"),
    path("groups/", views.group_list, name="group-list"),
    path("groups/<int:asset_id>/", views.group_detail, name="group-detail"),
    path("errors/", views.scan_errors_overview, name="error-list"),
    path("review/", views.review_list, name="review-list"),
    path("review/<int:pk>/", views.review_detail, name="review-detail"),
    path("thumbnails/<int:pk>.jpg", views.thumbnail, name="thumbnail"),
]
