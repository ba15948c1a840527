"""Fixtures for browser tests: one headless Chromium per session, a page per test, screenshots."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# A step that waits longer than this is a bug, not a slow machine: pages render in well under 1 s.
TIMEOUT_MS = 15_000


def _launch_problem() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (Debian package chromium; `make system-deps` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed in this environment"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Launch Debian's Chromium once per session; skip without it, except in CI where it fails."""
    problem = _launch_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, so Django's ORM calls made by
    # the test itself (fixtures, assertions on the database) would refuse to run; they are
    # synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """Return a fresh page (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(autouse=True)
def _inline_work(settings) -> None:
    """Run scans and reports started from a page inline, so the next page shows the result."""
    settings.PROVENA_BACKGROUND_SCANS = False
    settings.PROVENA_BACKGROUND_REPORTS = False


@pytest.fixture
def shot(request) -> Callable[[object, str], Path]:
    """Return shot(page, step): save a full-page screenshot as <test>/<nn>-<step>.png."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 100))

    def take(tab, step: str) -> Path:
        tab.wait_for_load_state("load")
        path = folder / f"{next(counter):02d}-{step}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take
