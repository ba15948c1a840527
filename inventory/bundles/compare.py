"""Compare a partner's fingerprint bundle with the local inventory, without either's pixels.

Pure (no Django): both sides come as BundleData columns. Tiers as in matching: exact when the
pixels are identical (pixel hash; a file-identical copy, same SHA-256, is always one), and a
fingerprint match when a probe of one side lies within CANDIDATE_RADIUS bits of a key of the
other (the candidate search of inventory.pairs.pairing, both ways, and the dHashes). A
fingerprint match cannot be verified on pixels here: it is reported on its own and never as a
copy. Every figure of a comparison is computed in comparison_figures(), once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from inventory.bundles.format import BundleData
from inventory.pairs.index import cross_join
from inventory.pairs.pairing import CANDIDATE_RADIUS
from inventory.selectors.departments import figures_by_department

NONE, EXACT, NEAR = 0, 1, 2
# The overlap figures per source and per department.
OVERLAP_FIGURES = ("exact_copies", "exact_bytes", "near_copies", "near_bytes")


@dataclass(frozen=True, slots=True)
class Matches:
    """Per partner row: NONE, EXACT or NEAR; the local row matched (-1: none); the distance."""

    tier: np.ndarray
    local_row: np.ndarray
    distance: np.ndarray


def _best(rows: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, per partner row, the closest local row (-1 if none) and its distance."""
    local = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, 65, dtype=np.int64)
    if not rows:
        return local, distance
    found = np.concatenate(rows)
    if not len(found):
        return local, distance
    # Closest first, then the lowest local row, so the answer never depends on table order.
    found = found[np.lexsort((found[:, 1], found[:, 2], found[:, 0]))]
    first = np.ones(len(found), dtype=bool)
    first[1:] = found[1:, 0] != found[:-1, 0]
    found = found[first]
    local[found[:, 0]] = found[:, 1]
    distance[found[:, 0]] = found[:, 2]
    return local, distance


def match_bundles(
    remote: BundleData, local: BundleData, radius: int = CANDIDATE_RADIUS, *, workers: int = 1
) -> Matches:
    """Return how each of the partner's renditions matches the local inventory.

    The fingerprint joins run on `workers` processes when they are large (cross_join).
    """
    n = len(remote)
    tier = np.zeros(n, dtype=np.int8)
    local_row = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, 65, dtype=np.int64)
    by_pixel = {pixel: row for row, pixel in enumerate(local.pixel)}
    for row, pixel in enumerate(remote.pixel):
        hit = by_pixel.get(pixel)
        if hit is not None:
            tier[row], local_row[row], distance[row] = EXACT, hit, 0
    del by_pixel
    open_rows = (tier == NONE) & np.asarray(remote.has_fp, dtype=bool)
    if not open_rows.any() or not any(local.has_fp):
        return Matches(tier, local_row, distance)
    found: list[np.ndarray] = []
    # The partner's probes against the local keys (global pHash, windows, trim)...
    l_rows, l_keys = local.hashes("keys")
    r_rows, r_probes = remote.hashes("probes")
    keep = open_rows[r_rows]
    found.append(cross_join(r_rows[keep], r_probes[keep], l_rows, l_keys, radius, workers=workers))
    del l_keys, r_probes
    # ...the local probes against the partner's keys (a crop on this side of theirs)...
    r_rows, r_keys = remote.hashes("keys")
    keep = open_rows[r_rows]
    l_rows, l_probes = local.hashes("probes")
    found.append(cross_join(r_rows[keep], r_keys[keep], l_rows, l_probes, radius, workers=workers))
    del r_keys, l_probes
    # ...and the global dHashes against each other.
    l_fp = np.flatnonzero(np.asarray(local.has_fp, dtype=bool))
    r_open = np.flatnonzero(open_rows)
    l_dhash = np.asarray(local.dhash, dtype=np.uint64)[l_fp]
    r_dhash = np.asarray(remote.dhash, dtype=np.uint64)[r_open]
    found.append(cross_join(r_open, r_dhash, l_fp, l_dhash, radius, workers=workers))
    near_local, near_distance = _best(found, n)
    near = open_rows & (near_local >= 0)
    tier[near] = NEAR
    local_row[near] = near_local[near]
    distance[near] = near_distance[near]
    return Matches(tier, local_row, distance)


@dataclass(slots=True)
class SourceOverlap:
    """One source's overlap figures (either side), rolled up by department like the others."""

    name: str
    department_code: str
    exact_copies: int = 0
    exact_bytes: int = 0
    near_copies: int = 0
    near_bytes: int = 0

    def as_row(self) -> dict[str, Any]:
        return {"source": self.name, "department": self.department_code,
                **{f: getattr(self, f) for f in OVERLAP_FIGURES}}  # fmt: skip


def _largest_file(data: BundleData) -> np.ndarray:
    """Return, per row, the size of its largest copy."""
    largest = np.zeros(len(data), dtype=np.int64)
    if data.copy_row:
        np.maximum.at(largest, np.asarray(data.copy_row), np.asarray(data.copy_size))
    return largest


def master_sides(remote: BundleData, local: BundleData, pairs: np.ndarray) -> list[str]:
    """Return, per (partner row, local row) pair, where the likelier master is held:
    "local", "partner" or "either".

    Without the other side's pixels or metadata only the resolution and the file size are
    comparable: more pixels win, then the larger largest file.
    """
    if not len(pairs):
        return []
    r, lr = pairs[:, 0], pairs[:, 1]
    r_area = (np.asarray(remote.width, dtype=np.int64) * np.asarray(remote.height))[r]
    l_area = (np.asarray(local.width, dtype=np.int64) * np.asarray(local.height))[lr]
    r_size, l_size = _largest_file(remote)[r], _largest_file(local)[lr]
    sides = np.where(
        r_area != l_area,
        np.where(r_area > l_area, "partner", "local"),
        np.where(r_size == l_size, "either", np.where(r_size > l_size, "partner", "local")),
    )
    return [str(side) for side in sides]


def _sides(data: BundleData) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(data.copy_row, dtype=np.int64), np.asarray(data.copy_size, dtype=np.int64)


def comparison_figures(remote: BundleData, local: BundleData, matches: Matches) -> dict[str, Any]:
    """Return every figure of the comparison (totals, per source and department, lists)."""
    tier, local_row = matches.tier, matches.local_row
    r_copy_row, r_size = _sides(remote)
    l_copy_row, l_size = _sides(local)
    r_tier = tier[r_copy_row] if len(r_copy_row) else np.zeros(0, dtype=np.int8)
    local_shas = set(local.copy_sha256)
    file_identical = sum(1 for sha in remote.copy_sha256 if sha in local_shas)
    # The local rows the partner duplicates, at the best tier either way.
    l_tier = np.zeros(len(local), dtype=np.int8)
    for t in (NEAR, EXACT):
        l_tier[local_row[tier == t]] = t
    l_copy_tier = l_tier[l_copy_row] if len(l_copy_row) else np.zeros(0, dtype=np.int8)

    def by_source(
        data: BundleData, copy_tier: np.ndarray, sizes: np.ndarray
    ) -> list[SourceOverlap]:
        rows: dict[str, SourceOverlap] = {}
        for i, (name, department) in enumerate(
            zip(data.copy_source, data.copy_department, strict=True)
        ):
            row = rows.setdefault(name, SourceOverlap(name, department))
            if copy_tier[i] == EXACT:
                row.exact_copies += 1
                row.exact_bytes += int(sizes[i])
            elif copy_tier[i] == NEAR:
                row.near_copies += 1
                row.near_bytes += int(sizes[i])
        return [rows[name] for name in sorted(rows)]

    partner_sources = by_source(remote, r_tier, r_size)
    local_sources = by_source(local, l_copy_tier, l_size)
    matched = np.flatnonzero(tier != NONE)
    personal_r = np.asarray(remote.personal, dtype=bool)
    personal_l = np.asarray(local.personal, dtype=bool)
    # A photograph shows people when either side says so; every partner copy of a matched
    # photograph showing people is one more holding of that person after the merge.
    shows = np.zeros(len(remote), dtype=bool)
    shows[matched] = personal_r[matched] | personal_l[local_row[matched]]
    holdings_added = int(shows[r_copy_row].sum()) if len(r_copy_row) else 0
    people_photographs = len({local.assets[local_row[r]] or f"r{local_row[r]}"
                              for r in np.flatnonzero(shows)})  # fmt: skip
    licensed_r = np.asarray(remote.licensed, dtype=bool)
    licensed_l = np.asarray(local.licensed, dtype=bool)
    double_paid = [int(r) for r in matched if licensed_r[r] and licensed_l[local_row[r]]]
    masters: dict[str, int] = defaultdict(int)
    overlaps = []
    copies_of: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(local.copy_row):
        if l_tier[row]:
            copies_of[row].append(i)
    partner_copies = np.bincount(r_copy_row, minlength=len(remote))
    sides = master_sides(remote, local, np.stack([matched, local_row[matched]], axis=1))
    for r, side in zip(matched.tolist(), sides, strict=True):
        lr = int(local_row[r])
        masters[side] += 1
        overlaps.append({
            "partner_id": remote.ids[r],
            "tier": "exact" if tier[r] == EXACT else "near",
            "distance": int(matches.distance[r]),
            "local_rendition": local.local_ids[lr] if local.local_ids else None,
            "local_copies": [
                {"source": local.copy_source[i], "path": local.copy_path[i],
                 "size": local.copy_size[i]} for i in copies_of[lr]
            ],
            "partner_copies": int(partner_copies[r]),
            "master": side,
            "personal": bool(shows[r]),
            "double_paid": bool(licensed_r[r] and licensed_l[lr]),
        })  # fmt: skip
    return {
        "partner": {"renditions": len(remote), "copies": len(r_copy_row),
                    "bytes": int(r_size.sum())},
        "local": {"renditions": len(local), "copies": len(l_copy_row), "bytes": int(l_size.sum())},
        "exact": int((tier == EXACT).sum()),
        "exact_files": file_identical,
        "near": int((tier == NEAR).sum()),
        "bytes_exact": int(r_size[r_tier == EXACT].sum()) if len(r_size) else 0,
        "bytes_near": int(r_size[r_tier == NEAR].sum()) if len(r_size) else 0,
        "personal_data_holdings_added": holdings_added,
        "personal_data_photographs": people_photographs,
        "double_paid_renditions": len(double_paid),
        "masters": {side: masters.get(side, 0) for side in ("local", "partner", "either")},
        "partner_sources": [s.as_row() for s in partner_sources],
        "local_sources": [s.as_row() for s in local_sources],
        "partner_departments": figures_by_department(rows=partner_sources, figures=OVERLAP_FIGURES),
        "local_departments": figures_by_department(rows=local_sources, figures=OVERLAP_FIGURES),
        "overlaps": overlaps,
    }  # fmt: skip
