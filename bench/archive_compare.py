"""Time and memory of comparing a partner's fingerprint bundle with a local inventory (issue 22).

SYNTHETIC FINGERPRINT ROWS, for scale only: no photograph stands behind them. Accuracy on
real photographs is tested in tests/reports/test_compare_archive.py; this measures how the
comparison scales. Each side has N renditions with the fingerprint shape the scanner stores
(a global pHash leading 10 index keys and 8 probes, and a dHash), one copy each; of the
partner's renditions 10% are pixel-identical to a local one (half of them byte-identical) and
10% are near copies (global pHash and dHash within 1 to 8 bits of a local one's), the rest
unrelated random hashes.

Timed, in one process: writing the partner's bundle (signed with a trial certificate, not
part of the comparison), then what `manage.py compare_archive` does after loading the local
rows: reading and checking the bundle (ZIP, signature, every row, digest), matching
(inventory.bundles.compare.match_bundles) and the figures (comparison_figures). The local
side is built from the same row dicts as the database read would give; the database query
itself is not in the figure. Peak memory is the process's maximum resident set size.

  python bench/archive_compare.py [--renditions 1000000] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("SECRET_KEY", "provena-bench-only-key")

import django  # noqa: E402

django.setup()

from inventory.bundles.compare import comparison_figures, match_bundles  # noqa: E402
from inventory.bundles.format import (  # noqa: E402
    BundleData,
    bundle_read,
    bundle_write,
    encode_hashes,
)
from inventory.pairs.index import pack_hashes  # noqa: E402
from reports.bundle_signing import manifest_sign, manifest_verify  # noqa: E402
from reports.signing import signing_certificate_create, signing_credentials_load  # noqa: E402

KEYS, PROBES = 10, 8  # per rendition, the global pHash first in both


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _flip(values: np.ndarray, rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """Return values with between low and high random bits flipped in each."""
    out = values.copy()
    bits = rng.integers(low, high + 1, size=len(values))
    for k in range(high):
        where = bits > k
        positions = rng.integers(0, 64, size=int(where.sum())).astype(np.uint64)
        out[where] ^= np.uint64(1) << positions
    return out


def _random(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 2**64, size=shape, dtype=np.uint64, endpoint=False)


def _hexes(rng: np.random.Generator, n: int) -> list[str]:
    return [bytes(row).hex() for row in rng.integers(0, 256, size=(n, 32), dtype=np.uint8)]


@dataclass
class Side:
    """One side's synthetic columns."""

    phash: np.ndarray
    dhash: np.ndarray
    keys: np.ndarray
    probes: np.ndarray
    pixels: list[str]
    shas: list[str]
    sizes: np.ndarray

    def fingerprint(self, i: int) -> tuple[str, str, bytes, bytes]:
        """Return row i's pHash and dHash (hex) and key and probe blobs, as a scan stores them."""
        return (
            f"{int(self.phash[i]):016x}",
            f"{int(self.dhash[i]):016x}",
            pack_hashes([self.phash[i], *self.keys[i]]),
            pack_hashes([self.phash[i], *self.probes[i]]),
        )

    def rows(self, prefix: str, source: str) -> Iterator[dict]:
        """Yield the side's bundle rows, as fingerprint_rows would."""
        for i in range(len(self.phash)):
            phash, dhash, keys, probes = self.fingerprint(i)
            yield {
                "id": f"{prefix}{i:09d}",
                "asset": f"{prefix}a{i:09d}",
                "pixel": self.pixels[i],
                "width": 3000,
                "height": 2000,
                "format": "JPEG",
                "phash": phash,
                "dhash": dhash,
                "keys": encode_hashes(keys),
                "probes": encode_hashes(probes),
                "personal": i % 7 == 0,
                "licensed": i % 11 == 0,
                "copies": [
                    {
                        "sha256": self.shas[i],
                        "size": int(self.sizes[i]),
                        "source": source,
                        "department": "DEPT",
                    }
                ],  # fmt: skip
            }


def _side(rng: np.random.Generator, n: int) -> Side:
    return Side(
        phash=_random(rng, (n,)),
        dhash=_random(rng, (n,)),
        keys=_random(rng, (n, KEYS - 1)),
        probes=_random(rng, (n, PROBES - 1)),
        pixels=_hexes(rng, n),
        shas=_hexes(rng, n),
        sizes=rng.integers(200_000, 8_000_000, size=n),
    )


def planted_sides(n: int) -> tuple[Side, Side, np.ndarray, np.ndarray]:
    """Return (local, partner, local rows planted exact, local rows planted near).

    The partner's first n/10 rows are pixel-identical to local rows (every other one
    byte-identical too), the next n/10 near copies; the rest unrelated.
    """
    rng = np.random.default_rng(20261204)
    local = _side(rng, n)
    exact, near = n // 10, n // 10
    picks = rng.permutation(n)[: exact + near]
    partner = _side(rng, n)
    e, nr = picks[:exact], picks[exact:]
    partner.phash[:exact], partner.dhash[:exact] = local.phash[e], local.dhash[e]
    partner.keys[:exact], partner.probes[:exact] = local.keys[e], local.probes[e]
    for i, j in enumerate(e.tolist()):
        partner.pixels[i] = local.pixels[j]
        if i % 2 == 0:
            partner.shas[i], partner.sizes[i] = local.shas[j], local.sizes[j]
    partner.phash[exact : exact + near] = _flip(local.phash[nr], rng, 1, 8)
    partner.dhash[exact : exact + near] = _flip(local.dhash[nr], rng, 1, 8)
    return local, partner, e, nr


def partner_bundle_write(partner: Side, folder: Path) -> Path:
    """Write the partner's side as a bundle signed with a trial certificate; return its path."""
    cert = folder / "bench.p12"
    cert.write_bytes(
        signing_certificate_create(
            common_name="Bench partner", organisation="Bench", password="bench", key_size=2048
        )
    )
    credentials = signing_credentials_load(path=cert, password="bench")
    bundle = folder / "partner.zip"
    with bundle.open("wb") as handle:
        bundle_write(
            handle,
            rows=partner.rows("r", "theirs"),
            manifest={"organisation": "Bench partner", "archive": "bench"},
            sign=lambda data: manifest_sign(data, credentials=credentials),
        )
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renditions", type=int, default=1_000_000)
    parser.add_argument("--output", default=str(REPO / "bench/results/archive_compare.json"))
    args = parser.parse_args()
    n = args.renditions
    started = time.perf_counter()
    ours, partner, _, nr = planted_sides(n)
    exact, near = n // 10, n // 10
    generated = time.perf_counter()

    local = BundleData()
    for row in ours.rows("l", "ours"):
        local.add(row, local_id=len(local))
    local_built = time.perf_counter()

    with tempfile.TemporaryDirectory() as folder:
        bundle = partner_bundle_write(partner, Path(folder))
        bundle_bytes = bundle.stat().st_size
        written = time.perf_counter()
        del partner
        peak_before = _peak_mb()
        read = bundle_read(bundle, verify=manifest_verify)
    bundle_done = time.perf_counter()
    matches = match_bundles(read.data, local, workers=os.cpu_count() or 1)
    matched = time.perf_counter()
    figures = comparison_figures(read.data, local, matches)
    finished = time.perf_counter()

    result = {
        "synthetic_rows": True,
        "renditions_per_side": n,
        "keys_per_rendition": KEYS,
        "probes_per_rendition": PROBES,
        "planted": {"exact": exact, "exact_files": (exact + 1) // 2, "near": near},
        "found": {k: figures[k] for k in ("exact", "exact_files", "near")},
        # Of the planted near copies, the share found with the local rendition planted; the
        # rest of "near" are chance collisions of unrelated random 64-bit hashes within 8 bits.
        "near_recall": round(float(np.mean(matches.local_row[exact : exact + near] == nr)), 4),
        "bundle_bytes": bundle_bytes,
        "seconds": {
            "generate": round(generated - started, 1),
            "local_rows_to_columns": round(local_built - generated, 1),
            "write_bundle": round(written - local_built, 1),
            "read_and_check_bundle": round(bundle_done - written, 1),
            "match": round(matched - bundle_done, 1),
            "figures": round(finished - matched, 1),
            "comparison_total": round(finished - written + (local_built - generated), 1),
        },
        "peak_rss_mb": round(_peak_mb()),
        "peak_rss_mb_before_reading_bundle": round(peak_before),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "command": f"python bench/archive_compare.py --renditions {n}",
    }
    print(json.dumps(result, indent=2))
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
