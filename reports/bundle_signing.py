"""Detached CMS signatures over a fingerprint bundle's manifest, with the report certificate.

The organisation signs its bundles with the same PKCS#12 certificate it signs reports with
(reports.signing); the signature covers the manifest, and the manifest holds the SHA-256 of
the data, so one signature vouches for both. pyHanko makes and checks the CMS structure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from reports.signing import SigningCredentials, certificate_display_name


class BundleSignatureError(ValueError):
    """The bundle's signature is missing, malformed or does not match; the message says why."""


@dataclass(frozen=True, slots=True)
class BundleSigner:
    """Who signed a bundle, as read from its checked signature."""

    subject: str
    display_name: str
    certificate_sha256: str


def manifest_sign(manifest: bytes, *, credentials: SigningCredentials) -> bytes:
    """Return a detached CMS (PKCS#7) signature over the manifest bytes, DER-encoded."""
    signed = asyncio.run(
        credentials.signer.async_sign_general_data(manifest, "sha256", detached=True)
    )
    return bytes(signed.dump())


def manifest_verify(manifest: bytes, signature: bytes) -> BundleSigner:
    """Check a detached signature over the manifest; return its signer or raise why not.

    Integrity is checked here (the digest and the signature over it); whether the signer is
    a partner one trusts is for the person reading the signer's name and fingerprint.
    """
    try:
        info = cms.ContentInfo.load(signature)
        signed_data = info["content"]
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData structure")
        certificates = signed_data["certificates"]
        if not certificates or not len(certificates):
            raise ValueError("it carries no signing certificate")
        der = certificates[0].chosen.dump()
        # Integrity only: the certificate is its own root here, never the system's list.
        context = ValidationContext(trust_roots=[certificates[0].chosen])
    except (ValueError, TypeError, KeyError) as exc:
        raise BundleSignatureError(f"the signature file cannot be read: {exc}") from None
    try:
        status = asyncio.run(
            async_validate_detached_cms(manifest, signed_data, signer_validation_context=context)
        )
    except Exception as exc:  # pyHanko raises several types for a malformed structure
        raise BundleSignatureError(f"the signature cannot be checked: {exc}") from None
    if not (status.intact and status.valid):
        raise BundleSignatureError(
            "the signature does not match the manifest: the bundle was changed after it was "
            "signed, or the signature belongs to another bundle"
        )
    certificate = x509.load_der_x509_certificate(der)
    return BundleSigner(
        subject=certificate.subject.rfc4514_string(),
        display_name=certificate_display_name(certificate),
        certificate_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
    )
