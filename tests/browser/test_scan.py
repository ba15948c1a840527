"""Running a scan from a source's page and reading its result."""

from __future__ import annotations

import re

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma

from inventory.models import Scan
from inventory.services.sources import source_register
from tests.browser.helpers import expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The sample archive's unreadable files (inventory.sample_archive.BAD_FILES) and what the scan
# page says about each.
BAD_FILES = {
    "incoming/empty.jpg": "empty file (0 bytes)",
    "incoming/truncated.jpg": "truncated JPEG data",
    "incoming/notes.jpg": "not an image",
    "incoming/bomb.png": "decompression bomb",
    "incoming/missing_link.jpg": "broken symbolic link",
    "incoming/loop_a.jpg": "symbolic link loop",
}


def test_compliance_officer_scans_a_source_and_sees_its_counters_and_errors(
    page, shot, sample_archive, role_users
) -> None:
    source_register(root=sample_archive["newsroom"], department_code="LCSD")
    log_in(page, "compliance")

    page.locator("header.top").get_by_role("link", name="Sources").click()
    page.locator("main table").get_by_role("link", name="newsroom").click()
    expect(page.locator("main table")).to_contain_text("No scans yet.")
    shot(page, "source-before-scan")

    page.get_by_role("button", name="Scan now").click()

    scan = Scan.objects.get(source__name="newsroom")
    expect(page.locator(".messages .success")).to_have_text(
        f"Scan #{scan.pk} of newsroom finished."
    )
    assert scan.status == Scan.Status.FINISHED
    scan_link = page.locator("main table").get_by_role("link", name=f"#{scan.pk}")
    expect(scan_link).to_be_visible()
    shot(page, "source-after-scan")

    scan_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Scan #{scan.pk} of newsroom finished"
    )
    cards = {
        label: page.locator(".card", has=page.locator(".l", has_text=re.compile(f"^{label}")))
        for label in ("files", "new", "changed", "unchanged", "moved", "missing", "errors")
    }
    counters = {
        "files": scan.files_seen,
        "new": scan.files_new,
        "changed": scan.files_changed,
        "unchanged": scan.files_unchanged,
        "moved": scan.files_moved,
        "missing": scan.files_missing,
        "errors": scan.errors,
    }
    for label, value in counters.items():
        expect(cards[label].locator(".n")).to_have_text(intcomma(value))
    assert scan.files_new == scan.files_seen > 0
    assert scan.errors >= len(BAD_FILES)

    errors = page.locator("main table").last
    for path, reason in BAD_FILES.items():
        row = errors.locator("tr", has=page.locator("td.path", has_text=path))
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_contain_text(reason)
    expect(errors.locator("tbody tr")).to_have_count(scan.errors)
    shot(page, "scan-finished")
