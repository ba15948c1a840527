"""Helpers for browser tests: Playwright's expect, logging in through the real form."""

from __future__ import annotations

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails in CI, and says why
    expect = None

# Every test user's password (tests/factories.py UserFactory).
PASSWORD = "test-password"


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Fill and submit the real login form."""
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
