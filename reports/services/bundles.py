"""Fingerprint bundles: export this archive's, check a partner's, compare it with ours.

One service each behind `manage.py export_fingerprints`, `manage.py compare_archive` and the
"Before a merge" page. The bundle format is inventory.bundles.format; it is signed here, in
the reports layer, with the organisation's report certificate (reports.bundle_signing).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from governance.files import atomic_write
from governance.version import VERSION
from inventory.bundles.compare import comparison_figures, match_bundles
from inventory.bundles.format import (
    BundleData,
    BundleError,
    ReadBundle,
    WrittenBundle,
    bundle_read,
    bundle_write,
)
from inventory.bundles.rows import archive_id, fingerprint_rows
from inventory.models import Source
from inventory.services.scan_lifecycle import default_workers
from reports.bundle_signing import BundleSignatureError, BundleSigner, manifest_sign
from reports.bundle_signing import manifest_verify as _verify
from reports.signing import SigningCredentials, SigningError, signing_credentials_load


def sources_named(names: list[str] | tuple[str, ...]) -> QuerySet[Source]:
    """Return the named sources (all when none is named); BundleError names unknown ones."""
    sources = Source.objects.all()
    if names:
        sources = sources.filter(name__in=names)
        unknown = set(names) - set(sources.values_list("name", flat=True))
        if unknown:
            raise BundleError(f"unknown source(s): {', '.join(sorted(unknown))}")
    return sources


def _credentials(credentials: SigningCredentials | None) -> SigningCredentials:
    if credentials is not None:
        return credentials
    try:
        return signing_credentials_load()
    except SigningError as exc:
        raise BundleError(f"cannot sign the bundle: {exc}") from exc


def bundle_export(
    *,
    output: Path | str,
    sources: QuerySet[Source],
    with_paths: bool = False,
    exclude_personal_data: bool = False,
    credentials: SigningCredentials | None = None,
) -> tuple[WrittenBundle, int]:
    """Write and sign a bundle of the sources' renditions; return it and the rows left out.

    The file appears whole or not at all; the certificate is checked before any row is read.
    """
    credentials = _credentials(credentials)
    skipped: list[int] = []
    rows = (
        row
        for _, row in fingerprint_rows(
            sources=sources,
            with_paths=with_paths,
            exclude_personal_data=exclude_personal_data,
            skipped=skipped,
        )
    )
    manifest: dict[str, Any] = {
        "organisation": settings.PROVENA_ORGANISATION,
        "archive": archive_id(),
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "software": f"Provena {VERSION}",
        "sources": sorted(sources.values_list("name", flat=True)),
        "options": {"with_paths": with_paths, "exclude_personal_data": exclude_personal_data},
    }
    # The count of rows left out is only known once they are read: it follows the manifest.
    with atomic_write(output, create_folder=False) as handle:
        written = bundle_write(
            handle,
            rows=rows,
            manifest=manifest,
            sign=lambda data: manifest_sign(data, credentials=credentials),
            # the rows are read lazily, so skipped fills while bundle_write runs
            extra=lambda: {"personal_data_rows_left_out": skipped[0] if skipped else 0},
        )
    return written, skipped[0] if skipped else 0


def _verify_or_refuse(manifest: bytes, signature: bytes) -> BundleSigner:
    try:
        return _verify(manifest, signature)
    except BundleSignatureError as exc:
        raise BundleError(f"bad signature: {exc}") from exc


def bundle_open(path: Path | str | IO[bytes]) -> ReadBundle:
    """Read and check a partner's bundle; BundleError says what is wrong with it.

    A bundle exported by this archive itself is refused too: comparing an archive with
    itself finds every picture "duplicated" and says nothing about a merge.
    """
    bundle = bundle_read(path, verify=_verify_or_refuse)
    if bundle.manifest.get("archive") == archive_id():
        raise BundleError(
            "this bundle was exported from this archive itself (same archive id); compare a "
            "partner's bundle, not our own"
        )
    return bundle


@dataclass(frozen=True, slots=True)
class ArchiveComparison:
    """A partner's bundle compared with the local inventory: who, what, and every figure."""

    bundle: ReadBundle
    local_sources: list[str]
    local_data_sha256: str
    figures: dict[str, Any]

    @property
    def signer(self) -> BundleSigner:
        signer: BundleSigner = self.bundle.signer
        return signer

    def summary(self) -> dict[str, Any]:
        """Return the figures for `--format json`, with the bundle's identity first."""
        manifest = self.bundle.manifest
        return {
            "bundle": {
                "organisation": manifest.get("organisation", ""),
                "created_at": manifest.get("created_at", ""),
                "manifest_sha256": self.bundle.manifest_sha256,
                "data_sha256": manifest["data"]["sha256"],
                "signer": self.signer.subject,
                "signer_certificate_sha256": self.signer.certificate_sha256,
                "options": manifest.get("options", {}),
            },
            "local": {"sources": self.local_sources, "data_sha256": self.local_data_sha256},
            **{k: v for k, v in self.figures.items() if k != "overlaps"},
            "overlaps": self.figures["overlaps"],
        }


def local_inventory(*, sources: QuerySet[Source]) -> tuple[BundleData, str]:
    """Return the local side as bundle columns and the SHA-256 its bundle's data would have."""
    data = BundleData()
    digest = hashlib.sha256()
    for pk, row in fingerprint_rows(sources=sources, with_paths=True):
        data.add(row, local_id=pk)
        # The digest of the rows as a bundle without paths would carry them.
        shared = {**row, "copies": [{k: v for k, v in c.items() if k != "path"}
                                    for c in row["copies"]]}  # fmt: skip
        digest.update(json.dumps(shared, separators=(",", ":"), ensure_ascii=False).encode())
        digest.update(b"\n")
    return data, digest.hexdigest()


def archive_compare(*, bundle: ReadBundle, sources: QuerySet[Source]) -> ArchiveComparison:
    """Compare a checked bundle with the local inventory of the sources."""
    local, local_sha = local_inventory(sources=sources)
    matches = match_bundles(bundle.data, local, workers=default_workers())
    figures = comparison_figures(bundle.data, local, matches)
    return ArchiveComparison(
        bundle=bundle,
        local_sources=sorted(sources.values_list("name", flat=True)),
        local_data_sha256=local_sha,
        figures=figures,
    )
