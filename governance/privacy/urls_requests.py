"""Pages for data access requests (legal role), under privacy/requests/."""

from __future__ import annotations

from django.urls import path

from governance.privacy import views_requests as views

urlpatterns = [
    path("", views.dsar_list, name="dsar-list"),
    path("new/", views.dsar_create, name="dsar-create"),
    path("<int:pk>/", views.dsar_detail, name="dsar-detail"),
    path("<int:pk>/photos/", views.dsar_photo_upload, name="dsar-photo-upload"),
    path("<int:pk>/photos/<int:photo>.jpg", views.dsar_photo_image, name="dsar-photo-image"),
    path("<int:pk>/photos/<int:photo>/face/", views.dsar_photo_choose, name="dsar-photo-choose"),
    path("<int:pk>/search/", views.dsar_search, name="dsar-search"),
    path(
        "<int:pk>/candidates/<int:candidate>/decide/",
        views.dsar_candidate_decide,
        name="dsar-candidate-decide",
    ),
    path(
        "<int:pk>/candidates/<int:candidate>/face.jpg",
        views.dsar_candidate_face,
        name="dsar-candidate-face",
    ),
    path("<int:pk>/pack/", views.dsar_pack_build, name="dsar-pack-build"),
    path(
        "<int:pk>/packs/<int:pack>/download/", views.dsar_pack_download, name="dsar-pack-download"
    ),
]
