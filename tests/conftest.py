"""Shared fixtures: settings pointing at temporary folders, the sample archive, role users."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import roles
from inventory.sample_archive import build_sample_archive
from tests.factories import DepartmentFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _plain_http() -> None:
    """Serve plain HTTP in tests (production redirects to HTTPS), from before the live server
    starts: its security middleware reads the setting once, when it is built."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues() -> None:
    """Compile the interface catalogues when a .po is newer than its .mo (make does it too)."""
    from django.conf import settings
    from django.core.management import call_command

    for po in Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            call_command("compilemessages", locale=[po.parent.parent.name], verbosity=0)


@pytest.fixture(autouse=True)
def _provena_settings(settings, tmp_path: Path) -> None:
    """Give every test its own allowed root and media root; scans run inline."""
    allowed = tmp_path / "archives"
    allowed.mkdir()
    settings.PROVENA_ALLOWED_ROOTS = [allowed.resolve()]
    settings.PROVENA_MEDIA_ROOT = (tmp_path / "media").resolve()
    settings.PROVENA_BACKGROUND_SCANS = False
    settings.PROVENA_BACKGROUND_IMPORTS = False
    settings.PROVENA_SCAN_WORKERS = 1
    # Django's test client logs in without a request, which django-axes refuses; the login
    # throttling tests switch it on (tests/governance/test_security_settings.py).
    settings.AXES_ENABLED = False
    # The face pass costs ~0.1 s a rendition; tests of faces and privacy turn it on.
    settings.PROVENA_FACES = False


@pytest.fixture
def archives(settings) -> Path:
    """Return the folder under which tests may create sources."""
    return settings.PROVENA_ALLOWED_ROOTS[0]


@pytest.fixture
def sample_archive(archives: Path) -> dict[str, Path]:
    """Build the sample archive (with its bad files) and return each source's root."""
    return build_sample_archive(archives / "demo")


@pytest.fixture
def role_users(db) -> dict[str, object]:
    """Return one user per role, plus one of another department and a superuser."""
    lcsd = DepartmentFactory(code="LCSD")
    news = DepartmentFactory(code="NEWS")
    return {
        "compliance": UserFactory(
            username="compliance", department=lcsd, role=roles.COMPLIANCE_OFFICER
        ),
        "legal": UserFactory(username="legal", department=lcsd, role=roles.LEGAL_REVIEWER),
        "manager": UserFactory(username="manager", department=lcsd, role=roles.MANAGER),
        "auditor": UserFactory(username="auditor", department=None, role=roles.AUDITOR),
        "administrator": UserFactory(
            username="administrator", department=None, role=roles.ADMINISTRATOR
        ),
        "other_department": UserFactory(
            username="newsdesk", department=news, role=roles.COMPLIANCE_OFFICER
        ),
        # As `setup_demo` once made its administrator: the role plus every Django permission.
        "superuser": UserFactory(
            username="superuser",
            department=None,
            role=roles.ADMINISTRATOR,
            is_staff=True,
            is_superuser=True,
        ),
    }


# Departments the sample archive's sources are registered under in the page and API tests.
SAMPLE_DEPARTMENTS = {"film_archive": "LCSD", "newsroom": "NEWS", "web_team": "NEWS"}


@pytest.fixture
def scanned_archive(sample_archive: dict[str, Path], role_users) -> dict[str, object]:
    """Scan the sample archive (film_archive for LCSD, the rest for NEWS); return each scan."""
    from tests.inventory.scan_helpers import scan_folder

    return {
        name: scan_folder(root, department=SAMPLE_DEPARTMENTS[name])
        for name, root in sample_archive.items()
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash test passwords cheaply: PBKDF2's default cost makes each user take ~0.3 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
