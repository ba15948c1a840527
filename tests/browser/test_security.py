"""In a real browser: the Content-Security-Policy blocks nothing the pages need (styles,
thumbnails, the lineage drawing, the API docs), and a locked-out login says so."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from inventory.models import Copy
from tests.browser.helpers import expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_pages_run_under_the_content_security_policy_without_a_violation(
    page, shot, scanned_archive
) -> None:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text[:160]}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    astronaut = Copy.objects.get(source__name="film_archive", path="stills/astronaut.jpg")
    log_in(page, "auditor")

    for url in [
        "/",
        f"/assets/{astronaut.rendition.asset_id}/",
        f"/copies/{astronaut.pk}/",
        "/reports/",
        "/api/docs/",
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Provena API")
    shot(page, "api-docs")

    assert not refused, refused


def test_a_locked_out_login_is_told_to_wait(page, shot, role_users, settings) -> None:
    settings.AXES_ENABLED = True  # off for the rest of the suite (tests/conftest.py)
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(page, "manager", password="not the password")

    log_in(page, "manager")

    expect(page.locator(".messages .error")).to_contain_text(
        "Too many failed logins for this user name from this address"
    )
    shot(page, "locked-out")
