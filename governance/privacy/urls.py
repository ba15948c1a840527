"""Pages of the privacy review and of data access requests (legal role)."""

from __future__ import annotations

from django.urls import include, path

from governance.privacy.views import cases, request_replies, requests

request_patterns = [
    path("", requests.dsar_list, name="dsar-list"),
    path("new/", requests.dsar_create, name="dsar-create"),
    path("refusals/", request_replies.dsar_refusals, name="dsar-refusals"),
    path("<int:pk>/", requests.dsar_detail, name="dsar-detail"),
    path("<int:pk>/photos/", requests.dsar_photo_upload, name="dsar-photo-upload"),
    path("<int:pk>/photos/<int:photo>.jpg", requests.dsar_photo_image, name="dsar-photo-image"),
    path("<int:pk>/photos/<int:photo>/face/", requests.dsar_photo_choose, name="dsar-photo-choose"),
    path("<int:pk>/search/", requests.dsar_search, name="dsar-search"),
    path(
        "<int:pk>/candidates/<int:candidate>/decide/",
        requests.dsar_candidate_decide,
        name="dsar-candidate-decide",
    ),
    path(
        "<int:pk>/candidates/<int:candidate>/face.jpg",
        requests.dsar_candidate_face,
        name="dsar-candidate-face",
    ),
    path("<int:pk>/pack/", requests.dsar_pack_build, name="dsar-pack-build"),
    path(
        "<int:pk>/packs/<int:pack>/download/",
        requests.dsar_pack_download,
        name="dsar-pack-download",
    ),
    path("<int:pk>/reply/", request_replies.dsar_reply, name="dsar-reply"),
    path("<int:pk>/refuse/", request_replies.dsar_refuse, name="dsar-refuse"),
    path("<int:pk>/close/", request_replies.dsar_close, name="dsar-close"),
]

urlpatterns = [
    path("", cases.case_list, name="privacy-cases"),
    path("cases/<int:pk>/", cases.case_detail, name="privacy-case"),
    path("cases/<int:pk>/decide/", cases.case_decide, name="privacy-case-decide"),
    path("cases/<int:pk>/approve/", cases.case_approve, name="privacy-case-approve"),
    path("cases/<int:pk>/assign/", cases.case_assign, name="privacy-case-assign"),
    path("images/<int:pk>.jpg", cases.rendition_full_image, name="privacy-image"),
    path("consents/", cases.consent_list, name="privacy-consents"),
    path("views/", cases.view_log, name="privacy-view-log"),
    path("requests/", include(request_patterns)),
]
