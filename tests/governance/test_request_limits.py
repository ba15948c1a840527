"""Uploads and request bodies are bounded: anything over PROVENA_MAX_REQUEST_BYTES is refused
unread with 413, and each upload form refuses a file too large or of the wrong kind with a
4xx and a message, never a server error. (Each form's own limit is tested beside it:
tests/inventory/test_catalogue.py, tests/reports/test_pages.py and test_api.py.)"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from skimage import data as skdata

from inventory.models import Source


@pytest.fixture
def small_limit(settings) -> int:
    settings.PROVENA_MAX_REQUEST_BYTES = 50_000
    return settings.PROVENA_MAX_REQUEST_BYTES


def _big_file(name: str = "big.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n" + b"0" * 60_000, "application/pdf")


@pytest.mark.parametrize("url", ["/reports/verify/", "/assets/import/"])
def test_a_page_upload_over_the_request_limit_is_refused_unread(
    client: Client, role_users, small_limit: int, url: str
) -> None:
    client.force_login(role_users["administrator"])

    response = client.post(url, {"file": _big_file()})

    assert response.status_code == 413
    assert f"this site accepts at most {small_limit:,}" in response.text
    assert "PROVENA_MAX_REQUEST_BYTES" in response.text


def test_an_api_body_over_the_request_limit_is_refused_with_json(
    client: Client, role_users, small_limit: int, archives
) -> None:
    client.force_login(role_users["administrator"])

    upload = client.post("/api/reports/verify/", {"file": _big_file()})
    json_body = client.post(
        "/api/sources/",
        {"root": str(archives), "name": "x" * 60_000},
        content_type="application/json",
    )

    assert upload.status_code == json_body.status_code == 413
    assert json_body.json()["detail"].startswith("the request is ")
    assert not Source.objects.exists()


def test_the_request_limit_refuses_before_the_login_is_checked(
    client: Client, small_limit: int
) -> None:
    response = client.post("/api/token/", {"password": "x" * 60_000})

    assert response.status_code == 413


def test_a_request_under_the_limit_goes_through(client: Client, role_users, small_limit) -> None:
    client.force_login(role_users["manager"])

    response = client.post("/reports/verify/", {"file": SimpleUploadedFile("a.pdf", b"not")})

    assert response.status_code == 400  # read, and found not to be a PDF


def test_a_request_claiming_a_nonsense_length_is_a_bad_request(client: Client) -> None:
    response = client.post("/login/", data=b"", content_type="text/plain", CONTENT_LENGTH="ten")

    assert response.status_code == 400


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skdata.coffee()).reduce(8).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.csv", _png_bytes()),  # an image renamed .csv
        ("catalogue.csv", "path,title\nstills/a.jpg,Ä\n".encode("utf-16")),
        ("catalogue.csv", b"\x00\x01\x02" * 1000),
        ("catalogue.csv", b""),
    ],
)
def test_a_catalogue_upload_that_is_not_a_utf8_csv_is_a_form_error(
    client: Client, role_users, name: str, content: bytes
) -> None:
    client.force_login(role_users["compliance"])

    response = client.post(
        "/assets/import/", {"file": SimpleUploadedFile(name, content), "dry_run": "1"}
    )

    assert response.status_code == 400
    assert "Nothing written: " in response.text


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (_png_bytes(), 400),
        (b"", 400),
        # A PDF header and nothing the parser can read behind it: not a readable PDF.
        (b"%PDF-1.7\n" + b"\xff" * 500, 400),
    ],
)
@pytest.mark.parametrize("url", ["/reports/verify/", "/api/reports/verify/"])
def test_a_report_to_verify_that_is_not_a_pdf_is_refused_with_a_message(
    client: Client, role_users, content: bytes, status: int, url: str
) -> None:
    client.force_login(role_users["auditor"])

    response = client.post(url, {"file": SimpleUploadedFile("report.pdf", content)})

    assert response.status_code == status
    if content.startswith(b"%PDF-"):
        body = response.json()["detail"] if url.startswith("/api/") else response.text
        assert "report.pdf: not a readable PDF" in body


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/assets/?source=%C2%B6%00", None),
        ("post", "/api/sources/", '{"root": "/srv/a\\u0000b"}'),
    ],
)
def test_a_nul_character_is_a_bad_request_not_a_server_error(
    client: Client, role_users, method: str, url: str, body: str | None
) -> None:
    # PostgreSQL refuses NUL in any text value; the request never gets that far.
    client.force_login(role_users["administrator"])
    if body is None:
        response = client.get(url)
    else:
        response = client.post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "NUL characters are not allowed"}
    assert not Source.objects.exists()
