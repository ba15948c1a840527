"""Free space where Provena writes: manage.py check warns early, the scan page shows it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import SourceFactory
from tests.full_volume import FullVolume

pytestmark = pytest.mark.django_db


def _check() -> str:
    out = StringIO()
    call_command("check", stdout=out, stderr=out)
    return out.getvalue()


def test_check_warns_when_the_media_and_quarantine_roots_are_short_of_space(settings) -> None:
    settings.PROVENA_MIN_FREE_BYTES = 10**18  # more than any volume here holds

    report = _check()

    assert "provena.W001" in report
    assert f"the media root {settings.PROVENA_MEDIA_ROOT} has " in report
    assert "less than PROVENA_MIN_FREE_BYTES" in report
    assert "provena.W101" in report
    assert "the quarantine root " in report


def test_check_is_quiet_with_room_to_spare(settings) -> None:
    settings.PROVENA_MIN_FREE_BYTES = 0

    report = _check()

    assert "provena.W001" not in report
    assert "provena.W101" not in report


def test_the_scan_page_shows_the_media_roots_free_space(
    client: Client, role_users, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = SourceFactory().scans.create(software_version="test")
    FullVolume(Path(settings.PROVENA_MEDIA_ROOT), capacity=5_000_000).install(monkeypatch)
    client.force_login(role_users["administrator"])

    page = client.get(f"/scans/{scan.pk}/").content.decode()

    assert "media root: 4.8\xa0MB free" in page
