"""PAdES signing of report PDFs with the organisation's PKCS#12 certificate (pyHanko).

Everything that can be wrong with the certificate is checked by signing_credentials_load(),
before a report is rendered, so a bad certificate never costs a render or leaves a file.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

SIGNATURE_FIELD = "ProvenaReportSignature"


class SigningError(Exception):
    """The signing certificate cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class SigningCredentials:
    """A loaded, checked signing certificate and its key, ready for pdf_sign()."""

    signer: signers.SimpleSigner
    certificate: x509.Certificate
    timestamp_url: str | None

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def display_name(self) -> str:
        return certificate_display_name(self.certificate)

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def certificate_sha256(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


def password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or password == "":
        return None
    return password if isinstance(password, bytes) else password.encode("utf-8")


def certificate_display_name(certificate: x509.Certificate) -> str:
    """Return "common name, organisation" for people to read (the RFC 4514 form is kept too)."""
    parts = []
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        parts += [str(a.value) for a in certificate.subject.get_attributes_for_oid(oid)]
    return ", ".join(dict.fromkeys(parts)) or certificate.subject.rfc4514_string()


def certificate_problems(certificate: x509.Certificate, *, now: datetime) -> list[str]:
    """Return why a certificate may not sign reports (expired, not yet valid, wrong usage)."""
    problems = []
    name = certificate.subject.rfc4514_string()
    if certificate.not_valid_after_utc <= now:
        problems.append(
            f"the certificate {name} expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} "
            "UTC; renew it (or create a new trial one with manage.py create_signing_cert)"
        )
    if certificate.not_valid_before_utc > now:
        problems.append(
            f"the certificate {name} is not valid until "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC; check the clock or wait"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not (usage.digital_signature or usage.content_commitment):
        problems.append(
            f"the certificate {name} does not allow document signing: its key usage lacks "
            "digitalSignature and nonRepudiation; ask your certificate authority for a "
            "signing certificate"
        )
    return problems


def signing_credentials_load(
    *,
    path: Path | str | None = None,
    password: str | bytes | None = None,
    timestamp_url: str | None = None,
    now: datetime | None = None,
) -> SigningCredentials:
    """Load and check the PKCS#12 signing certificate (defaults: the PROVENA_SIGNING_* settings)."""
    path = path or settings.PROVENA_SIGNING_CERT
    if password is None:
        password = settings.PROVENA_SIGNING_PASSWORD
    if timestamp_url is None:
        timestamp_url = settings.PROVENA_TSA_URL or None
    if not path:
        raise SigningError(
            "PROVENA_SIGNING_CERT is not set; point it at a PKCS#12 (.p12) file, or create "
            "a trial one with manage.py create_signing_cert --output FILE.p12"
        )
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningError(
            f"PROVENA_SIGNING_CERT={path} does not exist; check the path, or create a trial "
            "certificate with manage.py create_signing_cert --output FILE.p12"
        ) from None
    except OSError as exc:
        raise SigningError(f"PROVENA_SIGNING_CERT={path} cannot be read: {exc.strerror}") from exc
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(data, password_bytes(password))
    except ValueError:
        hint = "no password is set" if not password else "the password is wrong"
        raise SigningError(
            f"cannot open the signing certificate {path}: {hint}, or it is not a PKCS#12 file; "
            "check PROVENA_SIGNING_PASSWORD or PROVENA_SIGNING_PASSWORD_FILE"
        ) from None
    if key is None or certificate is None:
        raise SigningError(
            f"{path} holds no private key and certificate pair; export the signing "
            "certificate together with its private key"
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path} holds a {type(key).__name__}; use an RSA or EC key")
    problems = certificate_problems(certificate, now=now or datetime.now(UTC))
    if problems:
        raise SigningError("; ".join(problems))
    signer = signers.SimpleSigner.load_pkcs12_data(
        data, other_certs=[], passphrase=password_bytes(password)
    )
    return SigningCredentials(signer=signer, certificate=certificate, timestamp_url=timestamp_url)


def asn1_certificate(pem_or_cert: str | x509.Certificate) -> asn1_x509.Certificate:
    """Return a certificate as pyHanko's asn1crypto type."""
    if isinstance(pem_or_cert, str):
        pem_or_cert = x509.load_pem_x509_certificate(pem_or_cert.encode("ascii"))
    return asn1_x509.Certificate.load(pem_or_cert.public_bytes(serialization.Encoding.DER))


def pdf_sign(
    pdf: bytes, *, credentials: SigningCredentials, reason: str, location: str | None = None
) -> bytes:
    """Return the PDF with a PAdES certification signature over the whole file."""
    metadata = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=credentials.subject,
        # A certification signature that forbids changes: any later edit is flagged.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    timestamper = None
    if credentials.timestamp_url:
        timestamper = HTTPTimeStamper(credentials.timestamp_url, timeout=15)
    signer = PdfSigner(metadata, signer=credentials.signer, timestamper=timestamper)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = io.BytesIO()
    try:
        signer.sign_pdf(writer, output=output)
    except TimestampRequestError as exc:
        cause = exc.__cause__ or exc
        raise SigningError(
            f"the timestamp service {credentials.timestamp_url} did not answer ({cause}); "
            "check PROVENA_TSA_URL, or leave it empty to sign without a timestamp"
        ) from exc
    return output.getvalue()


# --- Trial certificates -----------------------------------------------------------------------


def new_password() -> str:
    """Return a random password for a trial certificate."""
    return secrets.token_urlsafe(18)


def signing_certificate_create(
    *,
    common_name: str,
    organisation: str,
    password: str,
    days: int = 365,
    not_before: datetime | None = None,
    key_usage: bool = True,
    key_size: int = 3072,
) -> bytes:
    """Return a self-signed RSA signing certificate and its key as PKCS#12 bytes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        # Only a usage that cannot sign documents, as in a TLS or encryption certificate.
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    certificate = builder.sign(key, hashes.SHA256())
    return pkcs12.serialize_key_and_certificates(
        common_name.encode("utf-8"),
        key,
        certificate,
        None,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )


def file_sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()
