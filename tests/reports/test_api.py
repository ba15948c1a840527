"""Tests for the reports API: each role building, reading, downloading and verifying."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from reports.models import Report
from reports.services import report_build, report_path
from tests.reports.helpers import nested_arrays_pdf, with_byte_changed

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_compliance_officer_builds_a_signed_report_and_downloads_it(
    scanned_archive, signing_cert, role_users
) -> None:
    client = client_for(role_users["compliance"])

    created = client.post("/api/reports/", {"kind": "audit", "sign": True}, format="json")

    assert created.status_code == 202
    body = created.json()
    report = Report.objects.get()
    assert body["number"] == report.number
    assert created["Location"] == f"/api/reports/{report.number}/"
    assert body["status"] == "finished"  # inline in tests; queued then running otherwise
    assert body["signed"] is True
    assert body["scope"]["resolved_sources"] == ["film_archive"]
    download = client.get(f"/api/reports/{report.number}/download/")
    content = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == body["sha256"]
    detail = client.get(f"/api/reports/{report.number}/").json()
    assert detail["figures"]["files"] == report.figures["files"]
    assert detail["download_url"].endswith(f"/api/reports/{report.number}/download/")


def test_administrator_builds_over_every_source(scanned_archive, role_users) -> None:
    created = client_for(role_users["administrator"]).post(
        "/api/reports/",
        {"kind": "remediation", "departments": ["NEWS"], "date_from": "2020-01-01"},
        format="json",
    )

    assert created.status_code == 202
    assert created.json()["scope"]["resolved_sources"] == ["newsroom", "web_team"]
    assert created.json()["scope"]["from"] == "2020-01-01"


def test_auditor_may_not_build_a_report(scanned_archive, role_users) -> None:
    response = client_for(role_users["auditor"]).post(
        "/api/reports/", {"kind": "audit"}, format="json"
    )

    assert response.status_code == 403
    assert not Report.objects.exists()


@pytest.mark.parametrize("role", ["legal", "manager"])
def test_reviewers_and_managers_may_not_build_a_report(scanned_archive, role_users, role) -> None:
    response = client_for(role_users[role]).post("/api/reports/", {"kind": "audit"}, format="json")

    assert response.status_code == 403


def test_anonymous_requests_are_refused(db) -> None:
    assert client_for().get("/api/reports/").status_code == 401
    assert client_for().post("/api/reports/", {"kind": "audit"}).status_code == 401
    assert client_for().post("/api/reports/verify/", {}).status_code == 401


def test_auditor_lists_and_downloads_reports(scanned_archive, role_users) -> None:
    report = report_build(kind="audit")
    client = client_for(role_users["auditor"])

    listing = client.get("/api/reports/")
    download = client.get(f"/api/reports/{report.number}/download/")

    assert [row["number"] for row in listing.json()["results"]] == [report.number]
    assert download.status_code == 200


def test_a_report_over_another_departments_sources_is_not_found(
    scanned_archive, role_users
) -> None:
    report = report_build(kind="audit", sources=["newsroom"])
    client = client_for(role_users["compliance"])  # LCSD

    assert client.get(f"/api/reports/{report.number}/").status_code == 404
    assert client.get(f"/api/reports/{report.number}/download/").status_code == 404
    assert client.get("/api/reports/").json()["results"] == []


def test_building_with_a_source_the_user_cannot_see_is_a_bad_request(
    scanned_archive, role_users
) -> None:
    response = client_for(role_users["compliance"]).post(
        "/api/reports/", {"kind": "audit", "sources": ["newsroom"]}, format="json"
    )

    assert response.status_code == 400
    assert "unknown source(s): newsroom" in response.json()["detail"]


def test_building_with_an_unusable_certificate_is_a_bad_request(
    scanned_archive, settings, certificates, role_users
) -> None:
    settings.PROVENA_SIGNING_CERT = str(certificates.expired)
    settings.PROVENA_SIGNING_PASSWORD = "correct horse battery staple"

    response = client_for(role_users["compliance"]).post(
        "/api/reports/", {"kind": "audit", "sign": True}, format="json"
    )

    assert response.status_code == 400
    assert "expired on" in response.json()["detail"]
    assert not Report.objects.exists()


def test_verify_endpoint_checks_an_uploaded_report(
    scanned_archive, signing_cert, role_users
) -> None:
    report = report_build(kind="audit", sign=True)
    data = report_path(report).read_bytes()
    client = client_for(role_users["manager"])

    good = client.post("/api/reports/verify/", {"file": SimpleUploadedFile("r.pdf", data)})
    bad = client.post(
        "/api/reports/verify/", {"file": SimpleUploadedFile("r.pdf", with_byte_changed(data))}
    )

    assert good.status_code == 200
    assert good.json()["ok"] is True
    assert good.json()["report"] == report.number
    assert good.json()["trusted"] is True
    assert bad.status_code == 200
    assert bad.json()["ok"] is False
    failed = {c["name"] for c in bad.json()["checks"] if not c["ok"]}
    assert {"signature valid", "matches the registry"} <= failed


def test_verify_endpoint_rejects_a_text_file(role_users) -> None:
    response = client_for(role_users["auditor"]).post(
        "/api/reports/verify/", {"file": SimpleUploadedFile("a.txt", b"hello")}
    )

    assert response.status_code == 400
    assert "not a PDF" in response.json()["detail"]


def test_verify_endpoint_refuses_deeply_nested_arrays_with_json(role_users) -> None:
    response = client_for(role_users["auditor"]).post(
        "/api/reports/verify/", {"file": SimpleUploadedFile("crafted.pdf", nested_arrays_pdf())}
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("crafted.pdf: not a readable PDF")


def test_verify_endpoint_rejects_an_oversize_file(settings, role_users) -> None:
    settings.PROVENA_REPORT_VERIFY_MAX_BYTES = 2048
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 5000)

    response = client_for(role_users["auditor"]).post("/api/reports/verify/", {"file": upload})

    assert response.status_code == 413
    assert "PROVENA_REPORT_VERIFY_MAX_BYTES" in response.json()["detail"]


def test_verify_endpoint_without_a_file_is_a_bad_request(role_users) -> None:
    response = client_for(role_users["auditor"]).post("/api/reports/verify/", {})

    assert response.status_code == 400
    assert "'file'" in response.json()["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_a_broker_the_api_builds_in_a_background_thread(
    scanned_archive, settings, role_users
) -> None:
    import threading

    settings.PROVENA_BACKGROUND_REPORTS = True
    client = client_for(role_users["administrator"])

    created = client.post("/api/reports/", {"kind": "privacy"}, format="json")

    assert created.status_code == 202
    assert created.json()["status"] in ("queued", "running")
    number = created.json()["number"]
    # The test database is SQLite in memory with a shared cache, where a read by this thread
    # during the build makes the builder's write fail at once (a file database waits): let the
    # build thread finish, then read its outcome through the API.
    for thread in threading.enumerate():
        if thread.name == f"report-{number}":
            thread.join(timeout=120)
    body = client.get(f"/api/reports/{number}/").json()
    assert body["status"] == "finished", body["error"]
    assert body["progress"] == 100
    assert client.get(f"/api/reports/{number}/download/").status_code == 200
