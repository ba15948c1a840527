from __future__ import annotations

from django.urls import path

from inventory import views, views_assets, views_licences

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
    path("assets/", views_assets.asset_list, name="asset-list"),
    path("assets/import/", views_assets.catalogue_upload, name="catalogue-upload"),
    path("assets/<int:pk>/", views_assets.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/master/", views_assets.asset_set_master, name="asset-master"),
    path("assets/<int:pk>/merge/", views_assets.asset_merge, name="asset-merge"),
    path("assets/<int:pk>/split/", views_assets.asset_split_view, name="asset-split"),
    path("assets/<int:pk>/supersede/", views_assets.asset_supersede, name="asset-supersede"),
    path(
        "assets/<int:pk>/supersessions/<int:supersession>/withdraw/",
        views_assets.asset_supersession_withdraw,
        name="asset-supersession-withdraw",
    ),
    path("assets/<int:pk>/catalogue/", views_assets.asset_catalogue, name="asset-catalogue"),
    path("assets/<int:pk>/licences/", views_assets.asset_licence, name="asset-licence"),
    path("licences/", views_licences.licence_list, name="licence-list"),
    path("licences/exposures/", views_licences.exposure_list, name="exposure-list"),
]
