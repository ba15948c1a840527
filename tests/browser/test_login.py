"""Logging in through the form as each role; what the navigation offers; logging out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from inventory.services.sources import source_register
from tests.browser.helpers import expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@dataclass(frozen=True)
class Expected:
    role: str
    department: str | None
    runs_scans: bool
    builds_reports: bool
    sees_other_departments: bool


EXPECTED = {
    "compliance": Expected("compliance officer", "LCSD", True, True, False),
    # Legal reviewers are organisation-wide: personal data anywhere is theirs to account for.
    "legal": Expected("legal reviewer", "LCSD", False, False, True),
    "manager": Expected("manager", "LCSD", False, False, False),
    "auditor": Expected("auditor", None, False, False, True),
    "administrator": Expected("administrator", None, True, True, True),
}
# Every role reads the inventory, the review queue, the audit log and the reports.
NAVIGATION = ("Dashboard", "Sources", "Scans", "Copies", "Duplicates", "Review", "Errors",
              "Audit log", "Reports", "API")  # fmt: skip


@pytest.fixture
def registered_sources(sample_archive, role_users) -> None:
    """Register film_archive for LCSD and newsroom for NEWS, without scanning them."""
    source_register(root=sample_archive["film_archive"], department_code="LCSD")
    source_register(root=sample_archive["newsroom"], department_code="NEWS")


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_role_logs_in_and_sees_what_it_may_use(
    page, shot, registered_sources, username: str
) -> None:
    expected = EXPECTED[username]

    page.goto("/")
    assert page.url.endswith("/login/?next=/")
    shot(page, "login-form")
    log_in(page, username)

    header = page.locator("header.top")
    assert page.url.endswith("/")
    expect(page.get_by_role("heading", name="Inventory overview")).to_be_visible()
    who = f"{username} · {expected.role}" + (
        f" · {expected.department}" if expected.department else ""
    )
    expect(header.locator(".who span")).to_have_text(who)
    nav = header.locator("nav")
    for item in NAVIGATION:
        expect(nav.get_by_role("link", name=item, exact=True)).to_be_visible()
    shot(page, "dashboard")

    header.get_by_role("link", name="Sources").click()
    sources = page.locator("main table")
    expect(sources).to_contain_text("film_archive")
    if expected.sees_other_departments:
        expect(sources).to_contain_text("newsroom")
    else:
        expect(sources).not_to_contain_text("newsroom")
    shot(page, "sources")

    sources.get_by_role("link", name="film_archive").click()
    expect(page.get_by_role("heading", name="film_archive")).to_be_visible()
    expect(page.get_by_role("button", name="Scan now")).to_have_count(int(expected.runs_scans))
    shot(page, "source")

    header.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Build report")).to_have_count(
        int(expected.builds_reports)
    )
    shot(page, "reports")

    header.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.locator("header.top")).to_have_count(0)
    shot(page, "logged-out")

    # The session is gone: a page asks for the login again.
    page.goto("/sources/")
    assert "/login/?next=/sources/" in page.url


def test_a_wrong_password_shows_the_error_and_keeps_the_user_out(page, shot, role_users) -> None:
    log_in(page, "compliance", password="not-the-password")

    expect(page.locator(".messages .error")).to_have_text(
        "Your user name and password did not match. Please try again."
    )
    assert page.url.endswith("/login/")
    expect(page.locator("header.top")).to_have_count(0)
    shot(page, "wrong-password")

    page.goto("/")
    assert "/login/" in page.url
