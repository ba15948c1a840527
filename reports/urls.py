from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("verify/", views.report_verify, name="report-verify"),
    path("<str:number>/", views.report_detail, name="report-detail"),
    path("<str:number>/download/", views.report_download, name="report-download"),
]
