"""Tests for signed reports: PAdES signatures that verify here and in Poppler's pdfsig."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports.models import Report
from reports.signing import SigningError, signing_credentials_load
from tests.reports.conftest import PASSWORD, Certificates
from tests.reports.helpers import build, nested_arrays_pdf, pdfsig, with_byte_changed

pytestmark = pytest.mark.django_db

VALID_LINE = "Signature Validation: Signature is Valid."


def verify(path: Path, capsys) -> str:
    call_command("verify_report", str(path))
    return capsys.readouterr().out


def test_signed_report_passes_verify_report_and_pdfsig(
    scanned_archive, signing_cert, tmp_path: Path, capsys
) -> None:
    output = build(tmp_path, "audit", "--sign")
    capsys.readouterr()

    out = verify(output, capsys)

    report = Report.objects.get()
    assert report.signed
    assert "CN=Test signer (good)" in report.signer_subject
    assert report.signed_at is not None
    assert "[ok  ] signature valid" in out
    assert "[ok  ] unmodified since signing" in out
    assert "[ok  ] signer trusted" in out
    assert f"[ok  ] matches the registry: report {report.number}" in out
    assert "Test signer (good)" in out
    assert "verified: the report is authentic and unmodified" in out
    said = pdfsig(output)
    assert VALID_LINE in said
    assert "Total document signed" in said
    assert "Test signer (good)" in said


def test_one_byte_changed_fails_verify_report_and_pdfsig(
    scanned_archive, signing_cert, tmp_path: Path, capsys
) -> None:
    output = build(tmp_path, "audit", "--sign")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(with_byte_changed(output.read_bytes()))

    with pytest.raises(CommandError, match="verification failed: signature valid") as failure:
        call_command("verify_report", str(tampered))

    assert "changed after it was signed" in str(failure.value)
    out = capsys.readouterr().out
    assert "[FAIL] matches the registry" in out
    assert "[--  ] signer trusted: not checked: the signature does not verify" in out
    said = pdfsig(tampered)
    assert VALID_LINE not in said
    assert VALID_LINE in pdfsig(output)


def test_content_appended_after_signing_fails(
    scanned_archive, signing_cert, tmp_path: Path
) -> None:
    output = build(tmp_path, "audit", "--sign")
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(output.read_bytes() + b"\n% an edit after signing\n")

    with pytest.raises(CommandError, match="unmodified since signing"):
        call_command("verify_report", str(appended))


def test_unsigned_report_matches_the_registry_but_does_not_verify(
    scanned_archive, tmp_path: Path, capsys
) -> None:
    output = build(tmp_path, "audit")
    capsys.readouterr()

    with pytest.raises(CommandError, match="no digital signature"):
        call_command("verify_report", str(output))

    assert "[ok  ] matches the registry" in capsys.readouterr().out


def test_signature_by_an_unknown_certificate_is_not_trusted(
    scanned_archive, settings, signing_cert, certificates: Certificates, tmp_path: Path, capsys
) -> None:
    output = build(tmp_path, "audit", "--sign")
    # Another Provena: a different registry and certificate. The signature is still intact.
    Report.objects.all().delete()
    settings.PROVENA_SIGNING_CERT = None
    capsys.readouterr()

    with pytest.raises(CommandError, match="signer trusted: .* is not trusted here"):
        call_command("verify_report", str(output))

    out = capsys.readouterr().out
    assert "[ok  ] signature valid" in out
    assert "[FAIL] matches the registry" in out


def test_verify_report_refuses_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    text = tmp_path / "notes.pdf"
    text.write_text("not a report")

    with pytest.raises(CommandError, match="not a PDF"):
        call_command("verify_report", str(text))


def test_verify_report_refuses_deeply_nested_arrays(tmp_path: Path) -> None:
    crafted = tmp_path / "crafted.pdf"
    crafted.write_bytes(nested_arrays_pdf())

    with pytest.raises(CommandError, match="crafted.pdf: not a readable PDF: .* nested too deep"):
        call_command("verify_report", str(crafted))


@pytest.mark.parametrize(
    ("which", "password", "message"),
    [
        ("good", "wrong password", "the password is wrong"),
        ("good", "", "no password is set"),
        ("expired", PASSWORD, "expired on"),
        ("not_yet_valid", PASSWORD, "is not valid until"),
        ("no_signing_usage", PASSWORD, "lacks digitalSignature and nonRepudiation"),
    ],
)
def test_bad_certificate_is_refused_before_any_work(
    which: str,
    password: str,
    message: str,
    scanned_archive,
    settings,
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    settings.PROVENA_SIGNING_CERT = str(getattr(certificates, which))
    settings.PROVENA_SIGNING_PASSWORD = password
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(CommandError, match=message):
        call_command("build_report", "--kind", "audit", "--sign", "--output", str(out / "r.pdf"))

    assert list(out.iterdir()) == []
    assert not (settings.PROVENA_MEDIA_ROOT / "reports").exists()
    assert not Report.objects.exists()


def test_missing_certificate_file_is_refused(scanned_archive, settings, tmp_path: Path) -> None:
    settings.PROVENA_SIGNING_CERT = str(tmp_path / "nowhere.p12")
    settings.PROVENA_SIGNING_PASSWORD = PASSWORD

    with pytest.raises(CommandError, match="nowhere.p12 does not exist"):
        build(tmp_path, "audit", "--sign")

    assert not Report.objects.exists()


def test_signing_without_a_certificate_setting_is_refused(scanned_archive, tmp_path) -> None:
    with pytest.raises(CommandError, match="PROVENA_SIGNING_CERT is not set"):
        build(tmp_path, "audit", "--sign")


def test_certificate_password_is_read_from_the_password_file_setting(
    monkeypatch, certificates: Certificates, tmp_path: Path
) -> None:
    from governance.env import env_str

    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    monkeypatch.setenv("PROVENA_SIGNING_PASSWORD_FILE", str(secret))

    credentials = signing_credentials_load(
        path=certificates.good, password=env_str("PROVENA_SIGNING_PASSWORD")
    )

    assert "Test signer (good)" in credentials.subject


def test_not_a_pkcs12_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "cert.p12"
    bogus.write_text("-----BEGIN CERTIFICATE-----")

    with pytest.raises(SigningError, match="or it is not a PKCS#12 file"):
        signing_credentials_load(path=bogus, password="x")


def test_create_signing_cert_writes_a_certificate_that_signs_reports(
    scanned_archive, settings, tmp_path: Path, capsys
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("trial password\n")
    certificate = tmp_path / "trial.p12"

    call_command(
        "create_signing_cert",
        "--output",
        str(certificate),
        "--common-name",
        "Trial signer",
        "--password-file",
        str(password_file),
    )

    assert certificate.stat().st_mode & 0o777 == 0o600
    assert "CN=Trial signer" in capsys.readouterr().out
    settings.PROVENA_SIGNING_CERT = str(certificate)
    settings.PROVENA_SIGNING_PASSWORD = "trial password"
    output = build(tmp_path, "privacy", "--sign")
    assert VALID_LINE in pdfsig(output)
    assert "Trial signer" in Report.objects.get().signer_subject


def test_create_signing_cert_generates_and_prints_a_password(tmp_path: Path, capsys) -> None:
    certificate = tmp_path / "trial.p12"

    call_command("create_signing_cert", "--output", str(certificate))

    out = capsys.readouterr().out
    password = next(line for line in out.splitlines() if line.startswith("password: "))[10:]
    credentials = signing_certificate_load(certificate, password)
    assert credentials.certificate.public_key().key_size == 3072


def test_create_signing_cert_refuses_to_overwrite(tmp_path: Path) -> None:
    certificate = tmp_path / "trial.p12"
    certificate.write_bytes(b"existing")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_signing_cert", "--output", str(certificate))

    assert certificate.read_bytes() == b"existing"


def signing_certificate_load(path: Path, password: str):
    return signing_credentials_load(path=path, password=password)
