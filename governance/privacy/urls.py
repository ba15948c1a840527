"""Pages of the privacy review (legal role)."""

from __future__ import annotations

from django.urls import include, path

from governance.privacy import views

urlpatterns = [
    path("", views.case_list, name="privacy-cases"),
    path("cases/<int:pk>/", views.case_detail, name="privacy-case"),
    path("cases/<int:pk>/decide/", views.case_decide, name="privacy-case-decide"),
    path("cases/<int:pk>/approve/", views.case_approve, name="privacy-case-approve"),
    path("cases/<int:pk>/assign/", views.case_assign, name="privacy-case-assign"),
    path("images/<int:pk>.jpg", views.rendition_full_image, name="privacy-image"),
    path("consents/", views.consent_list, name="privacy-consents"),
    path("views/", views.view_log, name="privacy-view-log"),
    path("requests/", include("governance.privacy.urls_requests")),
]
