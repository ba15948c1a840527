from __future__ import annotations

from django.urls import path

from inventory.views import assets, copies, dashboard, groups, licences, review, scans, sources

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/<slug:name>/", sources.source_detail, name="source-detail"),
    path("sources/<slug:name>/scan/", sources.source_scan, name="source-scan"),
    path("scans/", scans.scan_list, name="scan-list"),
    path("scans/<int:pk>/", scans.scan_detail, name="scan-detail"),
    path("copies/", copies.copy_list, name="copy-list"),
    path("copies/<int:pk>/", copies.copy_detail, name="copy-detail"),
    path("groups/", groups.group_list, name="group-list"),
    path("groups/<int:asset_id>/", groups.group_detail, name="group-detail"),
    path("errors/", scans.scan_errors_overview, name="error-list"),
    path("review/", review.review_list, name="review-list"),
    path("review/<int:pk>/", review.review_detail, name="review-detail"),
    path("assets/", assets.asset_list, name="asset-list"),
    path("assets/import/", assets.catalogue_upload, name="catalogue-upload"),
    path("assets/import/jobs/<int:pk>/", assets.catalogue_job, name="catalogue-job"),
    path("assets/<int:pk>/", assets.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/master/", assets.asset_set_master, name="asset-master"),
    path("assets/<int:pk>/merge/", assets.asset_merge, name="asset-merge"),
    path("assets/<int:pk>/split/", assets.asset_split_view, name="asset-split"),
    path("assets/<int:pk>/supersede/", assets.asset_supersede, name="asset-supersede"),
    path(
        "assets/<int:pk>/supersessions/<int:supersession>/withdraw/",
        assets.asset_supersession_withdraw,
        name="asset-supersession-withdraw",
    ),
    path("assets/<int:pk>/catalogue/", assets.asset_catalogue, name="asset-catalogue"),
    path("assets/<int:pk>/licences/", assets.asset_licence, name="asset-licence"),
    path("licences/", licences.licence_list, name="licence-list"),
    path("licences/exposures/", licences.exposure_list, name="exposure-list"),
]
