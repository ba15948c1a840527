"""A manager reads the remediation dashboard; a compliance officer moves a task along."""

from __future__ import annotations

import csv
import io

import pytest

from governance.remediation.models import RemediationTask, TaskChange
from inventory.models import Source
from tests.browser.helpers import expect, log_in
from tests.inventory.scan_helpers import scan_folder
from tests.remediation.conftest import Archive, build_tree
from tests.remediation.seed import seed_tasks

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def organisation(archives, role_users):
    """Two departments' sources of real photographs, with the five seeded tasks."""
    library, website = build_tree(archives)
    scan_folder(library, name="library", department="LCSD")
    scan_folder(website, name="website", department="NEWS")
    Source.objects.filter(name="library").update(authoritative=True)
    Source.objects.filter(name="website").update(risk_tier=Source.RiskTier.EXTERNAL)
    return seed_tasks(Archive(library=library, website=website), role_users)


def figure(page, name: str):
    return page.locator(f'[data-figure="{name}"] .n')


def progress_cell(page, department: str, status: str):
    return page.locator(f'#progress tr[data-department="{department}"] td[data-status="{status}"]')


def test_manager_reads_the_dashboard_and_an_officer_updates_a_task(
    page, shot, organisation, role_users
) -> None:
    coffee = organisation.coffee
    log_in(page, "manager")
    page.locator("header.top").get_by_role("link", name="Remediation").click()
    expect(page.get_by_role("heading", name="Remediation", exact=True)).to_be_visible()

    # LCSD's manager sees LCSD's three tasks: one verified, one waived, one open and overdue.
    expect(figure(page, "total")).to_have_text("3")
    expect(figure(page, "outstanding")).to_have_text("1")
    expect(figure(page, "overdue")).to_have_text("1")
    expect(figure(page, "closed")).to_have_text("67%")
    expect(figure(page, "reclaimed")).to_have_text("68.33 kB")
    expect(progress_cell(page, "LCSD", "open")).to_have_text("1")
    expect(progress_cell(page, "LCSD", "verified")).to_have_text("1")
    expect(progress_cell(page, "LCSD", "waived")).to_have_text("1")
    expect(progress_cell(page, "LCSD", "overdue")).to_have_text("1")
    expect(page.locator('#progress tr[data-department="NEWS"]')).to_have_count(0)
    overdue = page.locator("#overdue tbody tr")
    expect(overdue).to_have_count(1)
    expect(overdue.first).to_contain_text("stills/coffee.jpg")
    expect(overdue.first).to_contain_text("high · personal data")
    expect(page.locator("#risk tbody tr").first).to_have_attribute("data-source", "library")
    expect(page.locator("svg[aria-label='Tasks by department and status']")).to_be_visible()
    expect(
        page.locator("svg[aria-label='Tasks not yet verified or waived, by day']")
    ).to_be_visible()
    shot(page, "dashboard-manager")

    with page.expect_download() as download:
        page.get_by_role("link", name="export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert sorted(r["status"] for r in rows) == ["open", "verified", "waived"]

    page.get_by_role("button", name="Log out").click()
    log_in(page, "compliance")
    page.goto("/remediation/")
    page.locator("#overdue").get_by_role("link", name=f"#{coffee.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("restrict access")
    # "Verified" is never offered: the next scan or fixity check sets it.
    expect(page.get_by_label("Verified")).to_have_count(0)
    shot(page, "task-open")

    page.get_by_label("in progress").check()
    page.get_by_label("Note").fill("IT is removing public read access on the share")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".messages .success")).to_contain_text("is in progress")
    expect(page.locator("h1 + p.sub [data-status]")).to_have_text("in progress")
    expect(page.locator("#history tbody tr").last).to_contain_text(
        "IT is removing public read access on the share"
    )
    shot(page, "task-in-progress")

    coffee.refresh_from_db()
    assert coffee.status == RemediationTask.Status.IN_PROGRESS
    change = TaskChange.objects.filter(task=coffee).order_by("-at", "-pk").first()
    assert (change.user, change.to_status) == (role_users["compliance"], "in_progress")

    page.goto("/remediation/")
    expect(progress_cell(page, "LCSD", "in_progress")).to_have_text("1")
    expect(progress_cell(page, "LCSD", "open")).to_have_text("0")
    expect(figure(page, "overdue")).to_have_text("1")  # in progress and still late
    shot(page, "dashboard-after-update")
