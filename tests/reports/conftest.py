"""Fixtures for report tests: trial certificates (good and bad) and settings pointing at them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reports.signing import signing_certificate_create

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Certificates:
    """PKCS#12 files made once per session, all with PASSWORD."""

    good: Path
    expired: Path
    not_yet_valid: Path
    no_signing_usage: Path


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> Certificates:
    folder = tmp_path_factory.mktemp("certificates")

    def make(name: str, **kwargs) -> Path:
        path = folder / f"{name}.p12"
        path.write_bytes(
            signing_certificate_create(
                common_name=f"Test signer ({name})",
                organisation="Provena test organisation",
                password=PASSWORD,
                **kwargs,
            )
        )
        return path

    now = datetime.now(UTC)
    return Certificates(
        good=make("good"),
        expired=make("expired", not_before=now - timedelta(days=400), days=30, key_size=2048),
        not_yet_valid=make(
            "not-yet-valid", not_before=now + timedelta(days=10), days=30, key_size=2048
        ),
        no_signing_usage=make("no-signing-usage", key_usage=False, key_size=2048),
    )


@pytest.fixture(autouse=True)
def _report_settings(settings) -> None:
    """Build reports inline, with no certificate unless a test sets one."""
    settings.PROVENA_BACKGROUND_REPORTS = False
    settings.PROVENA_SIGNING_CERT = None
    settings.PROVENA_SIGNING_PASSWORD = None
    settings.PROVENA_TSA_URL = None


@pytest.fixture
def signing_cert(settings, certificates: Certificates) -> Path:
    """Configure the good trial certificate and return its path."""
    settings.PROVENA_SIGNING_CERT = str(certificates.good)
    settings.PROVENA_SIGNING_PASSWORD = PASSWORD
    return certificates.good
