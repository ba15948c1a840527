"""A legal reviewer works a privacy case in the browser; a second reviewer approves it."""

from __future__ import annotations

import re

import pytest

from governance import roles
from governance.models import AuditEvent
from governance.privacy.models import PersonalDataView, PrivacyCase
from governance.remediation.models import RemediationTask
from tests.browser.helpers import expect, log_in
from tests.conftest import SAMPLE_DEPARTMENTS
from tests.factories import UserFactory
from tests.inventory.scan_helpers import scan_folder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def people_archive(settings, sample_archive, role_users) -> PrivacyCase:
    """Scan the sample archive with the face pass on and return the astronaut's case."""
    settings.PROVENA_FACES = True
    settings.PROVENA_PRIVACY_SECOND_REVIEWER = True
    for name, root in sample_archive.items():
        scan_folder(root, department=SAMPLE_DEPARTMENTS[name])
    UserFactory(username="counsel", role=roles.LEGAL_REVIEWER)
    return PrivacyCase.objects.get()


def test_legal_reviewer_decides_a_case_and_a_second_reviewer_approves(
    page, shot, people_archive
) -> None:
    case = people_archive
    log_in(page, "legal")
    page.get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", name="Privacy cases")).to_be_visible()
    row = page.locator("table.cases tbody tr").first
    expect(row).to_contain_text("identifiable person held")
    expect(row.locator("td.num").first).to_have_text("6")
    shot(page, "queue")

    row.get_by_role("link", name=f"Case {case.pk}").click()
    expect(page.locator("#holdings")).to_have_text("6")
    expect(page.locator("rect.face-id").first).to_be_attached()
    expect(page.get_by_text("images/hero.jpg")).to_be_visible()
    shot(page, "case")

    page.get_by_label("Outcome").select_option("retain_master_only")
    page.get_by_label("Reason (required)").fill("one archival copy is enough")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("second reviewer")
    expect(page.locator("h1")).to_contain_text(re.compile("awaiting approval", re.IGNORECASE))
    shot(page, "awaiting-approval")
    assert not RemediationTask.objects.exists()

    page.get_by_role("button", name="Log out").click()
    log_in(page, "counsel")
    page.goto(f"/privacy/cases/{case.pk}/")
    page.get_by_label("approve").check()
    page.get_by_label("Reason").fill("agreed: the web and newsroom copies go")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".messages")).to_contain_text("Approved")
    expect(page.locator("h1")).to_contain_text(re.compile("decided", re.IGNORECASE))
    expect(page.locator("table.decisions")).to_contain_text("approved by counsel")
    shot(page, "decided")

    assert RemediationTask.objects.filter(action="remove_duplicate").count() == 5
    # Thumbnails the reviewers saw were logged; the audit log shows each step.
    assert PersonalDataView.objects.filter(user__username="legal").exists()
    page.goto("/audit/")
    body = page.locator("main")
    for event in ("privacy_case_opened", "privacy_decided", "privacy_approved"):
        assert AuditEvent.objects.filter(event_type=event).exists(), event
    expect(body).to_contain_text("privacy")
    shot(page, "audit-log")


def test_a_compliance_officer_sees_faces_blurred_and_no_privacy_pages(
    page, shot, people_archive
) -> None:
    log_in(page, "compliance")
    expect(page.get_by_role("link", name="Privacy")).to_have_count(0)
    response = page.goto(f"/privacy/cases/{people_archive.pk}/")
    assert response.status == 403
    page.goto("/copies/?q=astronaut")
    shot(page, "copies-blurred")
    assert not PersonalDataView.objects.exists()
