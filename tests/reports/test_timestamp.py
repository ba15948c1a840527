"""Tests for RFC 3161 timestamps: a local timestamp authority stands in for the network one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import CommandError, call_command
from pyhanko.sign.timestamps import DummyTimeStamper

from reports.models import Report
from tests.reports.helpers import build, pdfsig

pytestmark = pytest.mark.django_db


def _authority() -> DummyTimeStamper:
    """Return a timestamper with its own self-signed time-stamping certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local test TSA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )


@pytest.fixture
def timestamp_url() -> Iterator[str]:
    """Serve RFC 3161 over HTTP on localhost; yield its URL."""
    authority = _authority()
    requests: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(body)
            reply = authority.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsr"
    finally:
        server.shutdown()
        server.server_close()
    assert requests, "the timestamp authority was never asked"


def test_signature_carries_the_timestamp_authoritys_time(
    scanned_archive, settings, signing_cert, timestamp_url: str, tmp_path: Path, capsys
) -> None:
    settings.PROVENA_TSA_URL = timestamp_url

    output = build(tmp_path, "audit", "--sign")
    capsys.readouterr()
    call_command("verify_report", str(output))

    report = Report.objects.get()
    assert report.timestamped is True
    assert "(timestamp authority)" in capsys.readouterr().out
    assert "Signature Validation: Signature is Valid." in pdfsig(output)


def test_an_unreachable_timestamp_authority_fails_the_build_with_its_reason(
    scanned_archive, settings, signing_cert, tmp_path: Path
) -> None:
    settings.PROVENA_TSA_URL = "http://127.0.0.1:9/tsr"  # discard port: nothing listens

    with pytest.raises(CommandError, match="timestamp service http://127.0.0.1:9/tsr did not"):
        build(tmp_path, "audit", "--sign")

    report = Report.objects.get()
    assert report.status == Report.Status.FAILED
    assert "check PROVENA_TSA_URL" in report.error
    assert report.file == ""
    assert not (tmp_path / "audit.pdf").exists()
    assert list(settings.PROVENA_MEDIA_ROOT.glob("reports/*")) == []
