"""The fingerprint bundle, provena.fingerprints/1 (docs/fingerprint-bundle.md). No Django.

A bundle is a ZIP file of three members: `renditions.jsonl` (one JSON object per rendition:
what matching needs and nothing else), `manifest.json` (format, version, who and when, the
options, the row count and the SHA-256 of renditions.jsonl) and `manifest.json.p7s` (a
detached CMS signature over manifest.json). Signing and checking are passed in as functions,
so this module knows nothing of certificates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

FORMAT = "provena.fingerprints"
VERSION = 1
DATA = "renditions.jsonl"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
_ROW_KEYS = {"id", "asset", "pixel", "width", "height", "format", "phash", "dhash", "keys",
             "probes", "personal", "licensed", "copies"}  # fmt: skip


class BundleError(ValueError):
    """The bundle cannot be used; the message says why. Nothing was written."""


@dataclass(slots=True)
class BundleData:
    """A bundle's renditions as columns (or the local inventory's, built the same way)."""

    ids: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    pixel: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    width: list[int] = field(default_factory=list)
    height: list[int] = field(default_factory=list)
    personal: list[bool] = field(default_factory=list)
    licensed: list[bool] = field(default_factory=list)
    phash: list[int] = field(default_factory=list)  # 0 with has_fp False: no fingerprint
    dhash: list[int] = field(default_factory=list)
    has_fp: list[bool] = field(default_factory=list)
    key_parts: list[bytes] = field(default_factory=list)
    probe_parts: list[bytes] = field(default_factory=list)
    # Copies, flattened: the row each belongs to.
    copy_row: list[int] = field(default_factory=list)
    copy_sha256: list[str] = field(default_factory=list)
    copy_size: list[int] = field(default_factory=list)
    copy_source: list[str] = field(default_factory=list)
    copy_department: list[str] = field(default_factory=list)
    copy_path: list[str] = field(default_factory=list)
    # Set by add() for the local side: the database id behind each row.
    local_ids: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, row: dict[str, Any], *, local_id: int | None = None) -> None:
        """Append one rendition row (as written to renditions.jsonl)."""
        index = len(self.ids)
        self.ids.append(row["id"])
        self.assets.append(row["asset"] or "")
        self.pixel.append(row["pixel"])
        self.formats.append(row["format"])
        self.width.append(row["width"])
        self.height.append(row["height"])
        self.personal.append(row["personal"])
        self.licensed.append(row["licensed"])
        self.has_fp.append(bool(row["phash"]))
        self.phash.append(int(row["phash"], 16) if row["phash"] else 0)
        self.dhash.append(int(row["dhash"], 16) if row["dhash"] else 0)
        self.key_parts.append(base64.b64decode(row["keys"]))
        self.probe_parts.append(base64.b64decode(row["probes"]))
        for copy in row["copies"]:
            self.copy_row.append(index)
            self.copy_sha256.append(copy["sha256"])
            self.copy_size.append(copy["size"])
            self.copy_source.append(copy["source"])
            self.copy_department.append(copy["department"])
            self.copy_path.append(copy.get("path", ""))
        if local_id is not None:
            self.local_ids.append(local_id)

    def hashes(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (row index, hash) arrays of the packed keys or probes of every row."""
        parts = self.key_parts if which == "keys" else self.probe_parts
        lengths = np.fromiter((len(p) // 8 for p in parts), dtype=np.int64, count=len(parts))
        values = np.frombuffer(b"".join(parts), dtype="<u8").astype(np.uint64)
        return np.repeat(np.arange(len(parts), dtype=np.int64), lengths), values


def encode_hashes(blob: bytes | memoryview | None) -> str:
    """Return packed little-endian uint64 hashes as base64 (the keys/probes of a row)."""
    return base64.b64encode(bytes(blob or b"")).decode("ascii")


def _check_row(row: Any, line: int) -> None:
    """Raise BundleError unless the row has the documented fields and types."""

    def bad(what: str) -> BundleError:
        return BundleError(f"{DATA} line {line}: {what}")

    if not isinstance(row, dict) or set(row) - {"path"} != _ROW_KEYS and set(row) != _ROW_KEYS:
        raise bad(f"a row must hold exactly the fields {', '.join(sorted(_ROW_KEYS))}")
    if not isinstance(row["id"], str) or not row["id"]:
        raise bad("id must be a non-empty string")
    if not isinstance(row["pixel"], str) or not _HEX64.fullmatch(row["pixel"]):
        raise bad("pixel must be 64 lower-case hex digits")
    for name in ("phash", "dhash"):
        if not isinstance(row[name], str) or (row[name] and not _HEX16.fullmatch(row[name])):
            raise bad(f"{name} must be 16 hex digits or empty")
    for name in ("width", "height"):
        if not isinstance(row[name], int) or isinstance(row[name], bool) or row[name] < 0:
            raise bad(f"{name} must be a whole number")
    for name in ("personal", "licensed"):
        if not isinstance(row[name], bool):
            raise bad(f"{name} must be true or false")
    for name in ("keys", "probes"):
        try:
            if len(base64.b64decode(row[name], validate=True)) % 8:
                raise bad(f"{name} must be whole 64-bit hashes")
        except (binascii.Error, TypeError):
            raise bad(f"{name} must be base64") from None
    if not isinstance(row["copies"], list) or not row["copies"]:
        raise bad("copies must be a non-empty list")
    for copy in row["copies"]:
        if not isinstance(copy, dict) or not isinstance(copy.get("sha256"), str):
            raise bad("each copy needs sha256, size, source and department")
        if not _HEX64.fullmatch(copy["sha256"]) or not isinstance(copy.get("size"), int):
            raise bad("a copy's sha256 must be 64 hex digits and its size a whole number")
        if not isinstance(copy.get("source"), str) or not isinstance(copy.get("department"), str):
            raise bad("a copy's source and department must be strings")


@dataclass(frozen=True, slots=True)
class WrittenBundle:
    """What bundle_write() wrote."""

    rows: int
    copies: int
    data_sha256: str
    manifest: dict[str, Any]
    manifest_sha256: str


def bundle_write(
    handle: BinaryIO,
    *,
    rows: Iterable[dict[str, Any]],
    manifest: dict[str, Any],
    sign: Callable[[bytes], bytes],
    extra: Callable[[], dict[str, Any]] | None = None,
) -> WrittenBundle:
    """Write a bundle to an open binary file: the rows, then the manifest and its signature.

    `extra` is asked, after the last row, for manifest fields known only then.
    """
    digest = hashlib.sha256()
    seen: set[str] = set()
    count = copies = 0
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        with zf.open(DATA, "w", force_zip64=True) as data:
            for row in rows:
                if row["id"] in seen:
                    raise BundleError(f"rendition id {row['id']} appears twice")
                seen.add(row["id"])
                line = json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
                digest.update(line)
                data.write(line)
                count += 1
                copies += len(row["copies"])
        full = {
            **manifest,
            **(extra() if extra else {}),
            "format": FORMAT,
            "version": VERSION,
            "data": {"name": DATA, "sha256": digest.hexdigest(), "rows": count, "copies": copies},
        }
        manifest_bytes = json.dumps(full, indent=2, sort_keys=True).encode() + b"\n"
        zf.writestr(MANIFEST, manifest_bytes)
        zf.writestr(SIGNATURE, sign(manifest_bytes))
    return WrittenBundle(
        count, copies, digest.hexdigest(), full, hashlib.sha256(manifest_bytes).hexdigest()
    )


@dataclass(frozen=True, slots=True)
class ReadBundle:
    """A checked bundle: its manifest, who signed it, its digests and its renditions."""

    manifest: dict[str, Any]
    signer: Any
    manifest_sha256: str
    data: BundleData


def bundle_read(
    path: Path | str | IO[bytes], *, verify: Callable[[bytes, bytes], Any]
) -> ReadBundle:
    """Read and check a bundle; raise BundleError with the reason for anything wrong.

    Checked, in order: a whole ZIP with the three members; the format and version; the
    signature over the manifest; every row's fields; no id twice; the row count and the
    SHA-256 of the data against the manifest.
    """
    label = path if isinstance(path, str | Path) else "the file"
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError(f"{label} does not exist") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(
            f"{label} is not a whole fingerprint bundle (truncated or not a ZIP file: {exc})"
        ) from None
    with zf:
        names = set(zf.namelist())
        missing = {DATA, MANIFEST, SIGNATURE} - names
        if missing:
            raise BundleError(f"the bundle lacks {', '.join(sorted(missing))}")
        try:
            manifest_bytes = zf.read(MANIFEST)
            signature = zf.read(SIGNATURE)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BundleError(f"the bundle is damaged or truncated ({exc})") from None
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            raise BundleError(f"{MANIFEST} is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BundleError(f"not a fingerprint bundle: the manifest's format is not {FORMAT}")
        if manifest.get("version") != VERSION:
            raise BundleError(
                f"the bundle is version {manifest.get('version')!r}; this Provena reads version "
                f"{VERSION} only (re-export it with a matching Provena)"
            )
        signer = verify(manifest_bytes, signature)
        expected = manifest.get("data") or {}
        data = BundleData()
        digest = hashlib.sha256()
        seen: set[str] = set()
        try:
            with zf.open(DATA) as handle:
                for number, line in enumerate(handle, start=1):
                    digest.update(line)
                    try:
                        row = json.loads(line)
                    except ValueError:
                        raise BundleError(f"{DATA} line {number} is not JSON") from None
                    _check_row(row, number)
                    if row["id"] in seen:
                        raise BundleError(
                            f"{DATA} line {number}: rendition id {row['id']} appears twice"
                        )
                    seen.add(row["id"])
                    data.add(row)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BundleError(f"{DATA} is damaged or truncated ({exc})") from None
    if digest.hexdigest() != expected.get("sha256") or len(data) != expected.get("rows"):
        raise BundleError(
            f"{DATA} does not match the signed manifest ({len(data)} rows, SHA-256 "
            f"{digest.hexdigest()[:16]}…): it was changed or cut short after signing"
        )
    return ReadBundle(manifest, signer, hashlib.sha256(manifest_bytes).hexdigest(), data)
