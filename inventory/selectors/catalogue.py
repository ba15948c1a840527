"""Reads behind the catalogue import: the copies rows name, departments, numbers held.

Each is set-based, a query per chunk of keys, so the import costs a few queries per 500
rows rather than a few per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from governance.chunks import chunked
from inventory.models import Asset, CatalogueNumber, Copy, Source
from inventory.selectors.assets import asset_masters

KEY_COLUMNS = ("path", "source", "sha256")
SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 500  # keys per query: well under every database's limit on bound parameters
_MATCHES_KEPT = 20  # copies kept per key, as many as a message could name


@dataclass(frozen=True, slots=True)
class FoundCopy:
    """A copy a key matched: just the columns the import reads."""

    pk: int
    source_id: int
    source: str
    path: str
    asset_id: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.source}:{self.path}"


def _clean_path(path: str) -> str:
    return path.strip().replace("\\", "/").removeprefix("./").lstrip("/")


class CopyMatcher:
    """Find the copies catalogue rows name, in the sources in scope, a query per chunk of keys."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = {s.name: s for s in sources}
        self._names = {s.pk: s.name for s in sources}
        self._by_path: dict[str, list[FoundCopy]] = defaultdict(list)
        self._by_sha256: dict[str, list[FoundCopy]] = defaultdict(list)

    def _split(self, path: str, source_name: str) -> tuple[str, str]:
        path = _clean_path(path)
        if not source_name and ":" in path:
            prefix, rest = path.split(":", 1)
            if prefix in self.sources:
                source_name, path = prefix, rest.lstrip("/")
        return source_name, path

    def _fetch(self, column: str, keys: Iterable[str], into: dict[str, list[FoundCopy]]) -> None:
        keys = sorted(set(keys))
        source_ids = [s.pk for s in self.sources.values()]
        for chunk in chunked(keys, _CHUNK):
            rows = Copy.objects.filter(
                source_id__in=source_ids, **{f"{column}__in": list(chunk)}
            ).values_list("pk", "source_id", "path", "sha256", "rendition__asset_id", "problem")
            for pk, source_id, path, digest, asset_id, problem in rows:
                found = FoundCopy(pk, source_id, self._names[source_id], path, asset_id, problem)
                into[path if column == "path" else digest].append(found)
        for matches in into.values():
            matches.sort(key=lambda c: (c.source, c.path))
            del matches[_MATCHES_KEPT:]

    def load(self, rows: list[dict[str, str]]) -> None:
        """Fetch every copy the rows name by path or SHA-256, a chunk of keys per query."""
        paths, digests = set(), set()
        for cells in rows:
            path, source, digest = (cells.get(c, "").strip() for c in KEY_COLUMNS)
            if path:
                paths.add(self._split(path, source)[1])
            if digest:
                digests.add(digest.lower())
        self._fetch("path", paths, self._by_path)
        self._fetch("sha256", (d for d in digests if SHA256.fullmatch(d)), self._by_sha256)

    def by_path(self, path: str, source_name: str) -> tuple[list[FoundCopy], str]:
        source_name, path = self._split(path, source_name)
        if source_name:
            if source_name not in self.sources:
                return [], f"no source named {source_name!r} that you can see"
            found = [c for c in self._by_path.get(path, []) if c.source == source_name]
            return found, "" if found else f"no copy at {source_name}:{path}"
        found = self._by_path.get(path, [])
        if not found:
            return [], f"no copy at {path} in any source you can see"
        if len({c.source_id for c in found}) > 1:
            names = ", ".join(sorted({c.source for c in found}))
            return [], f"{path} is in several sources ({names}); write source:path"
        return found, ""

    def by_sha256(self, digest: str) -> tuple[list[FoundCopy], str]:
        digest = digest.strip().lower()
        if not SHA256.fullmatch(digest):
            return [], f"{digest!r} is not a SHA-256 (64 hexadecimal digits)"
        found = self._by_sha256.get(digest, [])
        return found, "" if found else f"no copy with SHA-256 {digest[:16]}…"


def asset_departments(asset_ids: list[int]) -> dict[int, int | None]:
    """Return the department answerable for each asset (its master copy's source's)."""
    departments: dict[int, int | None] = {}
    for chunk in chunked(asset_ids, _CHUNK):
        assets = list(Asset.objects.filter(pk__in=list(chunk)))
        for pk, master in asset_masters(assets=assets).items():
            departments[pk] = master.copy.source.department_id if master.copy else None
    # An asset with no present copy answers to its first copy's source (asset_department_id).
    orphans = [pk for pk, department in departments.items() if department is None]
    for chunk in chunked(orphans, _CHUNK):
        rows = (
            Copy.objects.filter(rendition__asset_id__in=list(chunk))
            .order_by("-pk")
            .values_list("rendition__asset_id", "source__department_id")
        )
        departments.update(dict(rows))  # the lowest pk is written last and wins
    return departments


def catalogue_numbers_held(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return which asset holds each wanted catalogue number already."""
    held: dict[tuple[str, str], int] = {}
    numbers = sorted({number for _, number in wanted})
    for chunk in chunked(numbers, _CHUNK):
        rows = CatalogueNumber.objects.filter(number__in=list(chunk))
        for scheme, number, asset_id in rows.values_list("scheme", "number", "asset_id"):
            if (scheme, number) in wanted:
                held[(scheme, number)] = asset_id
    return held
