"""A legal reviewer works a data access request in the browser, from receipt to response."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone

from governance.privacy.models import DataAccessRequest, PersonalDataView
from tests.browser.helpers import expect, log_in
from tests.privacy.dsar_helpers import (
    astronaut_reference,
    build_face_archive,
    enable_encodings,
    scan_face_archive,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STEPS = [
    "access_request_received",
    "access_request_photo",
    "access_request_searched",
    "access_request_match",
    "access_request_pack_built",
]


@pytest.fixture
def face_archive(archives: Path, settings, role_users):
    enable_encodings(settings)
    archive = build_face_archive(archives)
    scan_face_archive(archive)
    return archive


def images_loaded(page, selector: str) -> bool:
    """Wait until the images settle; say whether every one arrived and decoded."""
    page.wait_for_function(
        f"() => [...document.querySelectorAll({selector!r})].every(i => i.complete)"
    )
    return page.evaluate(
        f"() => [...document.querySelectorAll({selector!r})]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def test_legal_reviewer_answers_a_data_access_request(
    page, shot, face_archive, role_users, tmp_path: Path
) -> None:
    reference = tmp_path / "eileen-collins.jpg"
    astronaut_reference().save(reference, quality=90)
    log_in(page, "legal")

    page.goto("/privacy/requests/")
    expect(page.get_by_role("heading", name="Data access requests")).to_be_visible()
    expect(page.locator("table.requests tbody")).to_contain_text("No data access requests")
    page.get_by_role("link", name="Record a request").click()
    page.get_by_label("Subject reference").fill("DSAR-2026-031")
    page.get_by_label("Received on").fill(timezone.localdate().isoformat())
    page.get_by_label("Notes").fill("Letter from the subject's solicitor.")
    shot(page, "new-request")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data access request")
    expect(page.locator("p.sub")).to_contain_text("40 days left")
    request = DataAccessRequest.objects.get()
    assert request.subject_reference == "DSAR-2026-031"

    # A photo without a face is refused, and the page says why.
    brick = tmp_path / "brick.jpg"
    brick.write_bytes(
        (Path(__file__).resolve().parents[2] / "samples/photos/brick.jpg").read_bytes()
    )
    page.get_by_label("Reference photo").set_input_files(str(brick))
    page.get_by_role("button", name="Upload photo").click()
    expect(page.locator("#dsar-error")).to_contain_text("no face found in brick.jpg")
    shot(page, "no-face")

    page.get_by_label("Reference photo").set_input_files(str(reference))
    page.get_by_role("button", name="Upload photo").click()
    expect(page.locator(".messages")).to_contain_text("One face found in eileen-collins.jpg")
    expect(page.locator("#photos svg rect.face-id")).to_have_count(1)
    assert images_loaded(page, "#photos img")
    shot(page, "reference-photo")

    page.get_by_role("button", name="Search the archive").click()
    expect(page.locator(".messages")).to_contain_text("3 candidates within distance 0.60")
    rows = page.locator("table.candidates tbody tr")
    expect(rows).to_have_count(3)
    assert images_loaded(page, "table.candidates img.face")
    expect(page.locator("table.candidates")).to_contain_text("web/astronaut_copy.jpg")
    shot(page, "candidates")

    for index in range(3):
        rows.nth(index).get_by_role("button", name="Confirm").click()
        page.wait_for_load_state("load")
        expect(rows.nth(index)).to_contain_text("the subject")
    expect(page.get_by_role("heading", name=re.compile("3 confirmed, 0 to decide"))).to_be_visible()

    page.get_by_role("button", name="Build response pack").click()
    expect(page.locator(".messages")).to_contain_text("Response pack built: 4 copies listed")
    shot(page, "response-pack")
    with page.expect_download() as download_info:
        page.locator("table.packs").get_by_role("link", name="Download").click()
    saved = tmp_path / "pack.zip"
    download_info.value.save_as(saved)
    pack = request.response_packs.get()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == pack.sha256
    with zipfile.ZipFile(saved) as archive:
        rows_csv = list(csv.DictReader(io.StringIO(archive.read("copies.csv").decode())))
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 3
    assert {f"{r['source']}/{r['path']}" for r in rows_csv} == face_archive.astronaut_paths
    request.refresh_from_db()
    assert request.status == DataAccessRequest.Status.OPEN  # built, not yet sent
    looks = set(PersonalDataView.objects.values_list("kind", flat=True))
    assert looks == {"reference", "thumbnail", "redaction"}

    page.get_by_role("link", name="This request in the audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    events = page.locator("main table").last.locator("tbody tr")
    expect(events).to_have_count(7)  # received, photo, searched, 3 matches, pack built
    for step in STEPS:
        expect(events.filter(has_text=step).first).to_be_visible()
    expect(events.filter(has_text="access_request_match")).to_have_count(3)
    shot(page, "audit-log")
