"""Building a signed report on the page, downloading it and verifying it (and altered copies)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from reports.models import Report
from tests.browser.helpers import expect, log_in
from tests.inventory.scan_helpers import scan_folder
from tests.reports.helpers import with_byte_changed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CERT_PASSWORD = "browser test signing password"

REPORT_BUILD_TIMEOUT_MS = 90_000


@pytest.fixture(scope="session")
def trial_certificate(tmp_path_factory) -> Path:
    """Create a trial signing certificate with the management command, once per session."""
    folder = tmp_path_factory.mktemp("browser-signing")
    password_file = folder / "password.txt"
    password_file.write_text(CERT_PASSWORD, encoding="utf-8")
    p12 = folder / "signer.p12"
    call_command(
        "create_signing_cert", "--output", str(p12), "--password-file", str(password_file),
        verbosity=0,
    )  # fmt: skip
    return p12


@pytest.fixture
def signing_configured(settings, trial_certificate: Path) -> Path:
    settings.PROVENA_SIGNING_CERT = str(trial_certificate)
    settings.PROVENA_SIGNING_PASSWORD = CERT_PASSWORD
    settings.PROVENA_TSA_URL = None
    return trial_certificate


def submit_for_verification(page, path: Path) -> int:
    """Upload a file on the verify page; return the HTTP status of the answer."""
    page.get_by_label("Report PDF").set_input_files(str(path))
    with page.expect_response(
        lambda r: r.url.endswith("/reports/verify/") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state("load")
    return answer.value.status


def test_compliance_officer_builds_downloads_and_verifies_a_signed_report(
    page, shot, sample_archive, role_users, signing_configured, tmp_path: Path
) -> None:
    scan_folder(sample_archive["film_archive"], department="LCSD")
    log_in(page, "compliance")

    page.locator("header.top").get_by_role("link", name="Reports").click()
    expect(page.locator("main table tbody")).to_have_text("No reports yet.")
    page.get_by_label("Kind").select_option(value=Report.Kind.AUDIT)
    expect(page.get_by_label("Kind").locator("option:checked")).to_have_text(
        str(Report.Kind.AUDIT.label)
    )
    expect(page.get_by_label("Sign (PAdES)")).to_be_checked()
    shot(page, "build-form")

    # The tests build the report inside the request (no background runner): rendering and
    # signing a PDF is real work, not a page render, so the click may wait for it longer.
    page.get_by_role("button", name="Build report").click(timeout=REPORT_BUILD_TIMEOUT_MS)

    report = Report.objects.get()
    assert report.status == Report.Status.FINISHED, report.error
    assert report.signed
    assert page.url.endswith(f"/reports/{report.number}/")
    expect(page.locator(".messages .success")).to_have_text(
        f"Report {report.number} is being built."
    )
    expect(page.locator("dl.meta")).to_contain_text(report.sha256)
    expect(page.locator("dl.meta")).to_contain_text("PAdES, by")
    shot(page, "report-detail")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download {report.file_name}").click()
    download = download_info.value
    assert download.suggested_filename == report.file_name
    pdf = tmp_path / report.file_name
    download.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")

    page.get_by_role("link", name="Verify a copy").click()
    expect(page.get_by_role("heading", name="Verify a report")).to_be_visible()
    shot(page, "verify-form")

    assert submit_for_verification(page, pdf) == 200
    verdict = page.locator(".messages li").first
    expect(verdict).to_contain_text(
        f"{report.file_name} is authentic and unmodified: report {report.number}, signed by "
    )
    # The registry stores the subject as an RFC 4514 string; the page names the signer.
    expect(verdict).to_contain_text(f"{django_settings.PROVENA_ORGANISATION} reports (trial)")
    expect(verdict).not_to_have_class("error")
    expect(page.locator("table .badge.failed")).to_have_count(0)
    expect(page.locator("dl.meta")).to_contain_text(report.sha256)
    shot(page, "verified")

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(with_byte_changed(data))
    assert submit_for_verification(page, altered) == 200
    failure = page.locator(".messages li.error")
    expect(failure).to_contain_text("altered.pdf does not verify: ")
    assert len(failure.inner_text()) > len("altered.pdf does not verify: ") + 10
    expect(page.locator("table .badge.failed").first).to_be_visible()
    shot(page, "altered-refused")

    text_file = tmp_path / "notes.txt"
    text_file.write_text("These are my notes, not a report.\n", encoding="utf-8")
    assert submit_for_verification(page, text_file) == 400
    expect(page.locator(".messages li.error")).to_have_text(
        "notes.txt: the file is not a PDF (it does not start with %PDF-). "
        "Upload the report's PDF file."
    )
    shot(page, "text-file-refused")
