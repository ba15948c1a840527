"""Verify a report PDF: signature, integrity, signer trust and the report registry."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.utils import timezone
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from reports.models import Report
from reports.selectors.registry import registry_certificates, reports_with_sha256
from reports.signing import (
    asn1_certificate,
    certificate_display_name,
    file_sha256,
    password_bytes,
)

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# The checks that need a readable signature, in the order they are reported.
_SIGNATURE_CHECKS = ("signature valid", "unmodified since signing", "signer trusted")
_SIGNING_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


class NotAPdf(ValueError):
    """The bytes are not a PDF file at all, or cannot be parsed as one."""


@dataclass(slots=True)
class Check:
    """One verification step: what was checked, whether it passed, and the detail."""

    name: str
    ok: bool | None  # None: not checked, because an earlier failure kept it from running
    detail: str

    @property
    def status(self) -> str:
        if self.ok is None:
            return "not checked"
        return "pass" if self.ok else "fail"


@dataclass(slots=True)
class ReportVerification:
    """The outcome of verifying one file; ok only when every check passed."""

    sha256: str
    size: int
    checks: list[Check] = field(default_factory=list)
    signer_subject: str = ""
    certificate_sha256: str = ""
    signed_at: datetime | None = None
    timestamped: bool = False
    trusted: bool = False
    report: Report | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok is True for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.ok is False]

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name=name, ok=ok, detail=detail))

    def not_checked(self, names: tuple[str, ...], why: str) -> None:
        """Record checks that could not run, and why, so no one reads them as failures."""
        for name in names:
            self.checks.append(Check(name=name, ok=None, detail=f"not checked: {why}"))

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "sha256": self.sha256,
            "size": self.size,
            "signer_subject": self.signer_subject,
            "certificate_sha256": self.certificate_sha256,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "timestamped": self.timestamped,
            "trusted": self.trusted,
            "report": self.report.number if self.report else None,
            "checks": [
                {"name": c.name, "ok": c.ok, "status": c.status, "detail": c.detail}
                for c in self.checks
            ],
        }


def looks_like_pdf(head: bytes) -> bool:
    """Return whether the first bytes of a file carry the PDF header (within 1 KB, per spec)."""
    return PDF_MAGIC in head[:1024]


def trust_roots() -> list:
    """Return the certificates trusted as signers: the registry's and the configured one."""
    pems = set(registry_certificates())
    roots = [asn1_certificate(pem) for pem in sorted(pems)]
    configured = _configured_certificate()
    if configured is not None:
        roots.append(configured)
    return roots


def _configured_certificate() -> asn1_x509.Certificate | None:
    path = settings.PROVENA_SIGNING_CERT
    if not path:
        return None
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - path may be str or Path
            data = handle.read()
        _, certificate, _ = pkcs12.load_key_and_certificates(
            data, password_bytes(settings.PROVENA_SIGNING_PASSWORD)
        )
    except (OSError, ValueError):
        return None
    return asn1_certificate(certificate) if certificate is not None else None


def report_file_verify(*, data: bytes) -> ReportVerification:
    """Check a report file's signature, integrity, signer and registry entry."""
    result = ReportVerification(sha256=file_sha256(data), size=len(data))
    if not looks_like_pdf(data):
        raise NotAPdf("the file is not a PDF (it does not start with %PDF-)")
    signatures = _embedded_signatures(data)  # a file that cannot be parsed is refused
    _check_signature(signatures, result, roots=trust_roots())
    _check_registry(result)
    return result


def signature_self_check(*, data: bytes, certificate_pem: str) -> ReportVerification:
    """Check a freshly signed file against the certificate that signed it (no registry)."""
    result = ReportVerification(sha256=file_sha256(data), size=len(data))
    try:
        signatures = _embedded_signatures(data)
    except NotAPdf as exc:
        result.add("readable PDF", False, str(exc))
        result.not_checked(_SIGNATURE_CHECKS, "the file cannot be read as a PDF")
        return result
    _check_signature(signatures, result, roots=[asn1_certificate(certificate_pem)])
    return result


def _embedded_signatures(data: bytes) -> list:
    """Return the file's embedded signatures; raise NotAPdf when it cannot be parsed."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return list(reader.embedded_signatures)
    except RecursionError as exc:
        # A crafted file nests arrays or dictionaries deeper than the parser can follow.
        raise NotAPdf(
            "not a readable PDF: its objects are nested too deeply to parse; this is not a "
            "report Provena produced"
        ) from exc
    except Exception as exc:  # a malformed file can make the parser raise anything
        raise NotAPdf(
            f"not a readable PDF: the file is damaged ({exc or type(exc).__name__}); it was "
            "altered or truncated after it was produced"
        ) from exc


def _check_signature(signatures: list, result: ReportVerification, *, roots: list) -> None:
    if not signatures:
        result.add(
            "signature present",
            False,
            "the file carries no digital signature; only signed reports can be verified",
        )
        result.not_checked(_SIGNATURE_CHECKS[1:], "the file carries no signature")
        return
    embedded = signatures[-1]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(
            embedded, signer_validation_context=context, key_usage_settings=_SIGNING_USAGE
        )
    except (
        SignatureValidationError,
        PdfError,
        ValueError,
        KeyError,
        TypeError,
        RecursionError,
    ) as exc:
        result.add(
            "signature valid",
            False,
            f"the signature cannot be checked ({exc}); the file was altered after signing",
        )
        result.not_checked(_SIGNATURE_CHECKS[1:], "the signature cannot be read")
        return
    cert = status.signing_cert
    result.signer_subject = certificate_display_name(x509.load_der_x509_certificate(cert.dump()))
    result.certificate_sha256 = cert.sha256.hex()
    result.signed_at = status.signer_reported_dt
    if status.timestamp_validity is not None:
        result.timestamped = True
        result.signed_at = status.timestamp_validity.timestamp
    if not status.intact:
        result.add(
            "signature valid",
            False,
            "the signed bytes do not match the signature (digest mismatch): the document "
            "was changed after it was signed",
        )
    elif not status.valid:
        result.add(
            "signature valid",
            False,
            "the signature value does not verify against the signer's certificate",
        )
    else:
        result.add(
            "signature valid",
            True,
            f"PAdES signature ({status.md_algorithm.upper()}) verifies against the "
            "signer's certificate",
        )
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE and len(signatures) == 1
    if whole:
        result.add(
            "unmodified since signing",
            True,
            "the signature covers the whole file; nothing was added after signing",
        )
    else:
        result.add(
            "unmodified since signing",
            False,
            "content was appended to the file after it was signed (an incremental update), "
            "so the signature no longer covers the whole document",
        )
    result.trusted = bool(status.trusted)
    if not (status.intact and status.valid):
        # The signer's certificate is only validated for a signature that verifies.
        result.not_checked(
            ("signer trusted",), "the signature does not verify, so who signed it is unknown"
        )
    elif status.trusted:
        result.add(
            "signer trusted",
            True,
            f"signed by {result.signer_subject}, a certificate this Provena signs reports with",
        )
    else:
        indic = status.trust_problem_indic
        # standard_name is the indication's name (e.g. NO_CERTIFICATE_CHAIN_FOUND).
        reason = str(indic.standard_name).lower() if indic else ""
        result.add(
            "signer trusted",
            False,
            f"the signer {result.signer_subject} is not trusted here: its certificate is not "
            "one this Provena signs reports with, nor issued by one"
            + (f" ({reason.replace('_', ' ')})" if reason else ""),
        )


def _check_registry(result: ReportVerification) -> None:
    report = reports_with_sha256(sha256=result.sha256).first()
    if report is None:
        result.add(
            "matches the registry",
            False,
            f"no report in this Provena's registry has SHA-256 {result.sha256}: the file is "
            "not one this Provena issued, or it was changed",
        )
        return
    result.report = report
    who = report.created_by.get_username() if report.created_by else "the command line"
    result.add(
        "matches the registry",
        True,
        f"report {report.number} ({report.get_kind_display()}), built by {who} on "
        f"{timezone.localtime(report.created_at):%Y-%m-%d %H:%M %Z}",
    )
