"""Face encodings at rest: unreadable without the key, and never shown to non-legal roles."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.encryption import encoding_decrypt
from governance.privacy.models import DataAccessRequest, ReferencePhoto
from governance.privacy.services.reference_photos import reference_photo_add
from governance.privacy.services.requests import access_request_create, access_request_search
from inventory.imaging.faces import FacePolicy, examine_faces
from inventory.models import Asset, Copy, Face
from inventory.sample_archive import PHOTOS_DIR
from tests.privacy.dsar_helpers import (
    astronaut_reference,
    build_face_archive,
    enable_encodings,
    jpeg_upload,
    scan_face_archive,
)

pytestmark = pytest.mark.django_db
NON_LEGAL = ("compliance", "manager", "auditor", "administrator", "other_department")


@pytest.fixture
def face_archive(archives: Path, settings, role_users):
    enable_encodings(settings)
    archive = build_face_archive(archives)
    scan_face_archive(archive)
    return archive


def _stored(face: Face) -> bytes:
    return bytes(Face.objects.filter(pk=face.pk).values_list("encoding", flat=True).get())


def test_a_stored_encoding_is_not_the_vector(face_archive) -> None:
    face = Face.objects.get(rendition__copies__path="portraits/grace_hopper.jpg", identifiable=True)
    vector = examine_faces(PHOTOS_DIR / "grace_hopper.jpg", FacePolicy(encodings=True)).faces[0]
    plain = np.asarray(vector.encoding, dtype="<f4")

    stored = _stored(face)

    # Neither the float32 bytes nor any run of them is in the database, nor can the stored bytes
    # be read as a vector: they are a Fernet token (version byte 0x80, base64).
    assert plain.tobytes() not in stored
    assert plain[:4].tobytes() not in stored
    assert stored.startswith(b"gAAAAA")
    assert len(stored) % 4 == 0 and len(stored) != plain.nbytes
    as_floats = np.frombuffer(stored[: len(stored) // 4 * 4], dtype="<f4")[:128]
    assert not np.allclose(as_floats, plain, atol=0.05)
    # With the key it is the vector (the face pass and this decode agree to float precision).
    assert np.allclose(encoding_decrypt(stored), plain, atol=1e-4)


def test_another_key_cannot_decrypt_a_stored_encoding(face_archive, settings) -> None:
    face = Face.objects.exclude(encoding=None).first()
    stored = _stored(face)
    assert encoding_decrypt(stored).shape == (128,)

    settings.PROVENA_FACE_KEY = Fernet.generate_key().decode()

    with pytest.raises(InvalidToken):
        encoding_decrypt(stored)


def test_a_reference_photo_encoding_is_encrypted_too(face_archive, role_users, settings) -> None:
    legal = role_users["legal"]
    request = access_request_create(
        subject_reference="R", received_on=timezone.localdate(), notes="", created_by=legal
    )
    photo = reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    stored = bytes(ReferencePhoto.objects.values_list("encoding", flat=True).get(pk=photo.pk))
    assert stored.startswith(b"gAAAAA")

    settings.PROVENA_FACE_KEY = Fernet.generate_key().decode()

    with pytest.raises(InvalidToken):
        encoding_decrypt(stored)


def test_a_rotated_key_list_still_reads_old_encodings(face_archive, settings) -> None:
    stored = _stored(Face.objects.exclude(encoding=None).first())
    old = settings.PROVENA_FACE_KEY

    settings.PROVENA_FACE_KEY = f"{Fernet.generate_key().decode()},{old}"

    assert encoding_decrypt(stored).shape == (128,)


# --- nothing reaches other roles ------------------------------------------------------------


def _secrets() -> tuple[list[str], list[str]]:
    """Return the texts that must not appear: encoding tokens and vectors, face boxes."""
    tokens = [
        bytes(t).decode()
        for t in Face.objects.exclude(encoding=None).values_list("encoding", flat=True)
    ]
    tokens += [
        bytes(t).decode()
        for t in ReferencePhoto.objects.exclude(encoding=None).values_list("encoding", flat=True)
    ]
    vectors = []
    for token in tokens:
        vector = encoding_decrypt(token.encode())
        vectors.append(base64.b64encode(vector.tobytes()).decode()[:40])
        vectors.append(f"{vector[0]:.6f}")
    boxes = [(f.left, f.top, f.width, f.height) for f in Face.objects.all()] + [
        tuple(box) for p in ReferencePhoto.objects.all() for box in p.faces
    ]
    box_texts = []
    for left, top, width, height in boxes:
        box_texts += [
            f"[{left}, {top}, {width}, {height}]",
            f"[{left},{top},{width},{height}]",
            f'x="{left}" y="{top}" width="{width}" height="{height}"',
            f'"left": {left}, "top": {top}',
            f'"left":{left},"top":{top}',
        ]
    return tokens + vectors, box_texts


def _urls(request: DataAccessRequest) -> list[str]:
    pages = [
        reverse("dashboard"),
        reverse("copy-list"),
        reverse("group-list"),
        reverse("asset-list"),
        reverse("audit-log"),
        reverse("privacy-cases"),
        reverse("dsar-list"),
        reverse("dsar-detail", args=[request.pk]),
        reverse("dsar-photo-image", args=[request.pk, request.reference_photos.get().pk]),
    ]
    pages += [reverse("copy-detail", args=[pk]) for pk in Copy.objects.values_list("pk", flat=True)]
    pages += [
        reverse("asset-detail", args=[pk]) for pk in Asset.objects.values_list("pk", flat=True)
    ]
    pages += [
        reverse("dsar-candidate-face", args=[request.pk, pk])
        for pk in request.candidates.values_list("pk", flat=True)
    ]
    api = [
        "/api/copies/",
        "/api/assets/",
        "/api/matches/",
        "/api/groups/",
        "/api/findings/",
        "/api/audit-events/",
        "/api/privacy/cases/",
        "/api/access-requests/",
        f"/api/access-requests/{request.pk}/",
        f"/api/access-requests/{request.pk}/candidates/",
    ]
    api += [f"/api/copies/{pk}/" for pk in Copy.objects.values_list("pk", flat=True)]
    api += [f"/api/assets/{pk}/" for pk in Asset.objects.values_list("pk", flat=True)]
    return pages + api


@pytest.fixture
def worked_request(face_archive, role_users) -> DataAccessRequest:
    legal = role_users["legal"]
    request = access_request_create(
        subject_reference="R", received_on=timezone.localdate(), notes="", created_by=legal
    )
    reference_photo_add(
        request=request, upload=jpeg_upload(astronaut_reference()), uploaded_by=legal
    )
    access_request_search(request=request, user=legal)
    assert request.candidates.count() == 3
    return request


def test_no_response_to_another_role_holds_an_encoding_or_a_face_box(
    worked_request, role_users
) -> None:
    secrets, boxes = _secrets()
    assert len(secrets) > 10 and len(boxes) > 10
    urls = _urls(worked_request)

    for role in NON_LEGAL:
        client = Client()
        client.force_login(role_users[role])
        for url in urls:
            response = client.get(url, HTTP_ACCEPT="application/json")
            assert response.status_code < 500, (role, url)
            body = (
                b"".join(response.streaming_content) if response.streaming else response.content
            ).decode("latin-1")
            leaked = [s for s in secrets if s in body]
            assert not leaked, f"{role} got an encoding from {url}"
            shown = [b for b in boxes if b in body]
            assert not shown, f"{role} got face boxes {shown} from {url}"
        # The request's own pages and endpoints are refused outright.
        assert client.get(reverse("dsar-detail", args=[worked_request.pk])).status_code == 403
        api = client.get(f"/api/access-requests/{worked_request.pk}/candidates/")
        assert api.status_code == 403


def test_the_legal_role_does_see_the_boxes_but_never_an_encoding(worked_request, role_users):
    secrets, boxes = _secrets()
    client = Client()
    client.force_login(role_users["legal"])
    photo = worked_request.reference_photos.get()
    left, top, width, height = photo.faces[0]

    page = client.get(reverse("dsar-detail", args=[worked_request.pk])).content.decode()
    api = client.get(f"/api/access-requests/{worked_request.pk}/")

    # The check above can fail: the boxes are in what the legal role is shown.
    assert f'x="{left}" y="{top}" width="{width}" height="{height}"' in page
    assert api.json()["reference_photos"][0]["faces"] == [[left, top, width, height]]
    text = page + json.dumps(api.json())
    assert not [s for s in secrets if s in text]
