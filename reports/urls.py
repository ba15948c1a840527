from __future__ import annotations

from django.urls import path

from reports.views import merge, reports

urlpatterns = [
    path("", reports.report_list, name="report-list"),
    path("verify/", reports.report_verify, name="report-verify"),
    path("merge/", merge.merge_compare, name="report-merge"),
    path("<str:number>/", reports.report_detail, name="report-detail"),
    path("<str:number>/download/", reports.report_download, name="report-download"),
]
