"""Tests for the report pages: building, progress, download, and the verify upload."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from reports.models import Report
from reports.services import report_build, report_path
from tests.factories import UserFactory
from tests.reports.helpers import nested_arrays_pdf, with_byte_changed

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def signed_report(scanned_archive, signing_cert) -> Report:
    """A signed audit report over every source, built from the command line's service."""
    return report_build(kind="audit", sign=True)


def test_compliance_officer_builds_a_report_of_their_department_from_the_page(
    scanned_archive, signing_cert, role_users
) -> None:
    client = client_for(role_users["compliance"])

    response = client.post(reverse("report-list"), {"kind": "audit", "sign": "on"})

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", args=[report.number])
    assert report.status == Report.Status.FINISHED
    assert report.signed
    assert report.created_by == role_users["compliance"]
    # LCSD sees film_archive only, so the report covers film_archive only.
    assert report.scope["resolved_sources"] == ["film_archive"]
    detail = client.get(response["Location"])
    assert report.sha256 in detail.content.decode()
    assert "Download PR-" in detail.content.decode()


def test_list_page_shows_the_build_form_and_the_registry(scanned_archive, role_users) -> None:
    report_build(kind="privacy", sources=["film_archive"])

    response = client_for(role_users["compliance"]).get(reverse("report-list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Build a report" in page
    assert Report.objects.get().number in page


def test_a_source_outside_the_users_department_cannot_be_chosen(
    scanned_archive, role_users
) -> None:
    response = client_for(role_users["compliance"]).post(
        reverse("report-list"), {"kind": "audit", "sources": ["newsroom"]}
    )

    assert response.status_code == 400
    assert "newsroom is not one of the available choices" in response.content.decode()
    assert not Report.objects.exists()


def test_a_signing_problem_is_shown_on_the_form(scanned_archive, settings, role_users) -> None:
    settings.PROVENA_SIGNING_CERT = "/nonexistent/cert.p12"

    response = client_for(role_users["compliance"]).post(
        reverse("report-list"), {"kind": "audit", "sign": "on"}
    )

    assert response.status_code == 400
    assert "cert.p12 does not exist" in response.content.decode()
    assert not Report.objects.exists()


def test_auditor_reads_reports_but_may_not_build_one(scanned_archive, role_users) -> None:
    report = report_build(kind="audit")
    client = client_for(role_users["auditor"])

    listing = client.get(reverse("report-list"))
    refused = client.post(reverse("report-list"), {"kind": "audit"})

    assert listing.status_code == 200
    assert report.number in listing.content.decode()
    assert "Build a report" not in listing.content.decode()
    assert refused.status_code == 403
    assert Report.objects.count() == 1


def test_download_gives_the_registered_file(signed_report, role_users) -> None:
    response = client_for(role_users["auditor"]).get(
        reverse("report-download", args=[signed_report.number])
    )

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{signed_report.number}.pdf" in response["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == signed_report.sha256


def test_a_report_over_other_departments_sources_is_not_shown(signed_report, role_users) -> None:
    client = client_for(role_users["compliance"])  # LCSD: sees film_archive only

    detail = client.get(reverse("report-detail", args=[signed_report.number]))
    download = client.get(reverse("report-download", args=[signed_report.number]))
    listing = client.get(reverse("report-list"))

    assert detail.status_code == 404
    assert download.status_code == 404
    assert signed_report.number not in listing.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(db) -> None:
    for name in ("report-list", "report-verify"):
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_verify_page_confirms_a_genuine_report(signed_report) -> None:
    user_without_role = UserFactory()
    data = report_path(signed_report).read_bytes()

    response = client_for(user_without_role).post(
        reverse("report-verify"),
        {"file": SimpleUploadedFile("report.pdf", data, content_type="application/pdf")},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "report.pdf is authentic and unmodified" in page
    assert signed_report.number in page
    assert "Test signer (good)" in page


def test_verify_page_names_the_reason_a_changed_report_fails(signed_report, role_users) -> None:
    data = with_byte_changed(report_path(signed_report).read_bytes())

    response = client_for(role_users["legal"]).post(
        reverse("report-verify"), {"file": SimpleUploadedFile("report.pdf", data)}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "report.pdf does not verify" in page
    assert "changed after it was signed" in page
    # Who signed cannot be established once the signature fails: not checked, not "fail".
    trusted = re.search(r"<tr><td>signer trusted</td>(.*?)</tr>", page, re.S)
    assert trusted and '<span class="badge missing">not checked</span>' in trusted.group(1)
    assert '<span class="badge failed">fail</span>' not in trusted.group(1)


def test_verify_page_rejects_a_text_file_with_a_message(role_users) -> None:
    response = client_for(role_users["manager"]).post(
        reverse("report-verify"), {"file": SimpleUploadedFile("notes.txt", b"just some notes")}
    )

    assert response.status_code == 400
    assert "notes.txt: the file is not a PDF" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (nested_arrays_pdf(), "nested too deeply"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "the file is damaged"),
    ],
    ids=["nested-arrays", "truncated"],
)
def test_verify_page_refuses_a_pdf_it_cannot_parse_with_a_message(role_users, data, reason):
    response = client_for(role_users["auditor"]).post(
        reverse("report-verify"), {"file": SimpleUploadedFile("crafted.pdf", data)}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "crafted.pdf: not a readable PDF" in page and reason in page


def test_verify_page_rejects_an_oversize_upload_with_a_message(settings, role_users) -> None:
    settings.PROVENA_REPORT_VERIFY_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 20_000)

    response = client_for(role_users["manager"]).post(reverse("report-verify"), {"file": upload})

    assert response.status_code == 413
    assert "larger than 10.00 kB" in response.content.decode()


def test_verify_page_refuses_a_request_far_over_the_limit_unread(settings, role_users) -> None:
    settings.PROVENA_REPORT_VERIFY_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 200_000)

    response = client_for(role_users["manager"]).post(reverse("report-verify"), {"file": upload})

    assert response.status_code == 413
    assert "PROVENA_REPORT_VERIFY_MAX_BYTES" in response.content.decode()


def test_verify_page_without_a_file_asks_for_one(role_users) -> None:
    response = client_for(role_users["manager"]).post(reverse("report-verify"), {})

    assert response.status_code == 400
    assert "Choose a report PDF" in response.content.decode()
