"""Read the inventory as fingerprint-bundle rows: what matching needs, nothing more.

The same rows are written to a bundle (manage.py export_fingerprints) and compared against
a partner's bundle (manage.py compare_archive), so both sides are read one way. Ids are
opaque: an HMAC of the database id under the installation's SECRET_KEY, stable for one
installation and meaningless to anyone else.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from governance.chunks import chunked
from inventory.bundles.format import BundleData, encode_hashes
from inventory.models import Copy, LicenceAttachment, Rendition, Source
from inventory.selectors.departments import NO_DEPARTMENT
from inventory.selectors.licences import today
from inventory.selectors.people import renditions_showing_people

_CHUNK = 2_000


def opaque_id(kind: str, pk: int) -> str:
    """Return the opaque id of a rendition or asset (stable for this installation)."""
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()[:24]


def archive_id() -> str:
    """Return this installation's opaque archive id (tells a bundle from this archive)."""
    return opaque_id("archive", 0)


def _licensed_assets(asset_ids: list[int]) -> set[int]:
    """Return the assets (of those given) with a licence in force today."""
    day = today()
    attachments = LicenceAttachment.objects.filter(
        asset_id__in=asset_ids, licence__start__lte=day
    ).exclude(licence__end__lt=day)
    return set(attachments.values_list("asset_id", flat=True))


def fingerprint_rows(
    *,
    sources: QuerySet[Source],
    with_paths: bool = False,
    exclude_personal_data: bool = False,
    skipped: list[int] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (rendition id, bundle row) for each rendition with a present copy in the sources.

    A row lists the rendition's present copies in those sources (SHA-256, size, source and
    department; the path only with_paths). With exclude_personal_data, renditions whose
    photograph shows identifiable people are left out; their count is appended to skipped.
    """
    copies = Copy.objects.filter(
        source__in=sources, state=Copy.State.PRESENT, rendition__isnull=False
    )
    rendition_ids = sorted(set(copies.values_list("rendition_id", flat=True)))
    left_out = 0
    for chunk in chunked(rendition_ids, _CHUNK):
        held: dict[int, list[dict[str, Any]]] = defaultdict(list)
        fields = ("rendition_id", "sha256", "size", "path", "source__name",
                  "source__department__code")  # fmt: skip
        for rid, sha256, size, path, source, department in (
            copies.filter(rendition_id__in=chunk)
            .order_by("source__name", "path")
            .values_list(*fields)
        ):
            copy = {"sha256": sha256, "size": size, "source": source,
                    "department": department or NO_DEPARTMENT}  # fmt: skip
            if with_paths:
                copy["path"] = path
            held[rid].append(copy)
        people = renditions_showing_people(among=chunk)
        renditions = Rendition.objects.filter(pk__in=chunk).order_by("pk")
        values = renditions.values_list(
            "pk", "asset_id", "pixel_hash", "format", "width", "height", "phash", "dhash",
            "fp_keys", "fp_probes",
        )  # fmt: skip
        rows = list(values)
        licensed = _licensed_assets([r[1] for r in rows if r[1] is not None])
        for pk, asset_id, pixel, fmt, width, height, phash, dhash, keys, probes in rows:
            personal = pk in people
            if personal and exclude_personal_data:
                left_out += 1
                continue
            yield (
                pk,
                {
                    "id": opaque_id("rendition", pk),
                    "asset": opaque_id("asset", asset_id) if asset_id is not None else None,
                    "pixel": pixel,
                    "width": width,
                    "height": height,
                    "format": fmt,
                    "phash": phash if keys else "",
                    "dhash": dhash if keys else "",
                    "keys": encode_hashes(keys),
                    "probes": encode_hashes(probes),
                    "personal": personal,
                    "licensed": asset_id in licensed,
                    "copies": held[pk],
                },
            )
    if skipped is not None:
        skipped.append(left_out)


def local_bundle_data(*, sources: QuerySet[Source]) -> BundleData:
    """Return the local inventory of the sources as bundle columns, with database ids."""
    data = BundleData()
    for pk, row in fingerprint_rows(sources=sources, with_paths=True):
        data.add(row, local_id=pk)
    return data
