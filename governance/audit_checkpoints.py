"""Signed checkpoints of the audit chain head, kept outside the database.

The hash chain shows an event changed or removed in the middle of the log, but someone who
can write the database can delete the last events and rewrite the chain-head row to match:
the shorter chain still verifies. A checkpoint anchors the head outside the database: one
JSON file per checkpoint in PROVENA_AUDIT_CHECKPOINT_DIR (default
PROVENA_MEDIA_ROOT/audit-checkpoints), never overwritten, signed with the report signing
certificate (PROVENA_SIGNING_CERT) when one is configured. `verify_audit_log` then checks
that the log still holds the event each checkpoint names, with the hash it had.

Checkpoints are written by `manage.py audit_checkpoint` (run it from cron) and after every
report is built.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings

from governance.audit import AuditHead, audit_head, format_time
from governance.files import write_text_atomic
from governance.models import AuditEvent

SCHEMA = "provena.audit-checkpoint/1"
_PAYLOAD_FIELDS = ("schema", "seq", "count", "hash", "written_at")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written (folder, certificate); the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint read back from its file, with what its signature says."""

    path: Path
    seq: int
    count: int
    hash: str
    written_at: str
    signed: bool
    signature_ok: bool  # meaningless when not signed
    signer_sha256: str = ""


@dataclass(frozen=True, slots=True)
class CheckpointVerification:
    """The log checked against its checkpoints; problems make it fail."""

    latest: Checkpoint | None
    events_after: int
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def checkpoint_dir() -> Path:
    """Return the folder checkpoints are written to."""
    configured = settings.PROVENA_AUDIT_CHECKPOINT_DIR
    return Path(configured) if configured else settings.PROVENA_MEDIA_ROOT / "audit-checkpoints"


def _payload_bytes(payload: dict) -> bytes:
    return json.dumps(
        {name: payload[name] for name in _PAYLOAD_FIELDS}, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def _password() -> bytes | None:
    password = settings.PROVENA_SIGNING_PASSWORD
    return password.encode("utf-8") if password else None


def _signing_pair() -> tuple[PrivateKeyTypes, x509.Certificate] | None:
    """Return (key, certificate) from PROVENA_SIGNING_CERT, or None when none is configured."""
    path = settings.PROVENA_SIGNING_CERT
    if not path:
        return None
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(Path(path).read_bytes(), _password())
    except OSError as exc:
        raise CheckpointError(
            f"PROVENA_SIGNING_CERT={path} cannot be read ({exc.strerror}); checkpoints are "
            "signed with it"
        ) from exc
    except ValueError as exc:
        raise CheckpointError(
            f"cannot open PROVENA_SIGNING_CERT={path}: check PROVENA_SIGNING_PASSWORD"
        ) from exc
    if key is None or certificate is None:
        raise CheckpointError(f"{path} holds no private key and certificate pair")
    return key, certificate


def _sign(key: PrivateKeyTypes, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise CheckpointError(f"the signing key is a {type(key).__name__}; use an RSA or EC key")


def _signature_valid(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    public = certificate.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def audit_checkpoint_write(*, head: AuditHead | None = None) -> Path:
    """Write a checkpoint of the chain head (signed when a certificate is configured)."""
    head = head or audit_head()
    folder = checkpoint_dir()
    payload: dict = {
        "schema": SCHEMA,
        "seq": head.seq,
        "count": head.count,
        "hash": head.hash,
        "written_at": format_time(datetime.now(UTC)),
    }
    pair = _signing_pair()
    if pair is not None:
        key, certificate = pair
        payload["signature"] = {
            "algorithm": "sha256",
            "value": base64.b64encode(_sign(key, _payload_bytes(payload))).decode("ascii"),
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        }
    stamp = payload["written_at"].replace(":", "").replace("-", "").replace(".", "")
    target = folder / f"checkpoint-{head.seq:012d}-{stamp}.json"
    try:
        write_text_atomic(target, json.dumps(payload, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise CheckpointError(
            f"cannot write an audit checkpoint to {folder} ({exc.strerror}); check "
            "PROVENA_AUDIT_CHECKPOINT_DIR"
        ) from exc
    return target


def checkpoint_read(path: Path) -> Checkpoint | str:
    """Return the checkpoint in a file, or why it cannot be read."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("schema") != SCHEMA:
            return f"{path.name} is not a Provena audit checkpoint"
        seq, count, digest = int(payload["seq"]), int(payload["count"]), str(payload["hash"])
        written_at = str(payload["written_at"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{path.name} cannot be read ({exc})"
    signature = payload.get("signature")
    if not signature:
        return Checkpoint(path, seq, count, digest, written_at, signed=False, signature_ok=False)
    try:
        certificate = x509.load_pem_x509_certificate(signature["certificate"].encode("ascii"))
        value = base64.b64decode(signature["value"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        return f"{path.name} has an unreadable signature ({exc})"
    return Checkpoint(
        path,
        seq,
        count,
        digest,
        written_at,
        signed=True,
        signature_ok=_signature_valid(certificate, value, _payload_bytes(payload)),
        signer_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
    )


def _configured_sha256() -> str | None:
    pair = _signing_pair()
    return pair[1].fingerprint(hashes.SHA256()).hex() if pair else None


def audit_checkpoints_check(*, head: AuditHead) -> CheckpointVerification:
    """Check the log (already walked up to `head`) against the latest trusted checkpoint."""
    folder = checkpoint_dir()
    problems: list[str] = []
    notes: list[str] = []
    trusted: list[Checkpoint] = []
    signer = _configured_sha256()
    for path in sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else []:
        found = checkpoint_read(path)
        if isinstance(found, str):
            problems.append(found)
        elif found.signed and not found.signature_ok:
            problems.append(f"{path.name}: its signature does not verify (the file was altered)")
        elif found.signed and signer and found.signer_sha256 != signer:
            problems.append(
                f"{path.name} is signed by a certificate (SHA-256 {found.signer_sha256[:16]}…) "
                "that is not PROVENA_SIGNING_CERT"
            )
        elif not found.signed and signer:
            # With a certificate configured, an unsigned file proves nothing: anyone who can
            # write the folder could have written it.
            notes.append(f"{path.name} is unsigned and was not trusted")
        else:
            trusted.append(found)
    if not trusted:
        if not problems:
            notes.append(
                f"no checkpoint in {folder}; run manage.py audit_checkpoint (e.g. from cron)"
            )
        return CheckpointVerification(None, head.count, problems, notes)
    latest = max(trusted, key=lambda c: (c.seq, c.written_at))
    if head.seq < latest.seq:
        missing = (
            f"event {latest.seq} is"
            if head.seq + 1 == latest.seq
            else f"events {head.seq + 1} to {latest.seq} are"
        )
        problems.append(
            f"the log was truncated: {missing} missing. The checkpoint written at "
            f"{latest.written_at} ({latest.path.name}) records {latest.count} events up to event "
            f"{latest.seq}, but the log now ends at event {head.seq}; if the database was "
            "restored from a backup, say so in the record and write a new checkpoint"
        )
        return CheckpointVerification(latest, 0, problems, notes)
    recorded = AuditEvent.objects.filter(seq=latest.seq).values_list("hash", flat=True).first()
    if latest.seq and recorded != latest.hash:
        problems.append(
            f"event {latest.seq} is not the event the checkpoint written at {latest.written_at} "
            f"recorded (hash {latest.hash[:16]}…, now {str(recorded)[:16]}…): the log was "
            "rewritten from there on"
        )
    events_after = AuditEvent.objects.filter(seq__gt=latest.seq, seq__lte=head.seq).count()
    return CheckpointVerification(latest, events_after, problems, notes)
