"""Measure HashIndex's query recall at archive sizes, at the radius the matcher uses.

Plants queries at an exact Hamming distance (1..radius bits) from random keys of an index of
N keys, and counts how many find the key they were made from. Keys are uniform random 64-bit
values ("random") or clustered like an archive's pHashes ("clustered": groups of 10 keys
within 4 bits of a centre, as one rendition's windows and its copies sit). Prints a table;
timings are CPU seconds of one process.

  python bench/hashindex_recall.py [--sizes 300000 1000000] [--queries 3000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.pairs.index import HashIndex  # noqa: E402
from inventory.pairs.pairing import CANDIDATE_RADIUS  # noqa: E402


def flip(values: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Return values with exactly `bits` distinct random bits flipped in each."""
    out = values.copy()
    for row in range(len(out)):
        mask = 0
        for bit in rng.choice(64, size=bits, replace=False):
            mask |= 1 << int(bit)
        out[row] ^= np.uint64(mask)
    return out


def keys(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    random = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    random ^= rng.integers(0, 2, size=n, dtype=np.int64).astype(np.uint64)
    if kind == "random":
        return random
    centres = random[: n // 10]
    out = np.repeat(centres, 10)[:n]
    return flip(out, 4, rng) if n <= 200_000 else _flip_fast(out, 4, rng)


def _flip_fast(values: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    out = values.copy()
    for _ in range(bits):  # up to `bits` flips (a repeat cancels: clusters within 4 bits)
        out ^= np.left_shift(np.uint64(1), rng.integers(0, 64, size=len(out)).astype(np.uint64))
    return out


def measure(n: int, kind: str, queries: int, radius: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    index_keys = keys(kind, n, rng)
    owners = np.arange(n, dtype=np.int64)
    started = time.process_time()
    index = HashIndex(owners, index_keys)
    rows = {}
    picked = rng.choice(n, size=queries, replace=False)
    for d in range(1, radius + 1):
        q = flip(index_keys[picked], d, rng)
        found = index.query(-1 - np.arange(queries, dtype=np.int64), q, radius)
        hits = {(int(-1 - a), int(b)) for a, b, _ in found.tolist()}
        rows[d] = sum((i, int(picked[i])) in hits for i in range(queries)) / queries
    seconds = time.process_time() - started
    return {"n": n, "kind": kind, "recall": rows, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--kinds", nargs="+", default=["random", "clustered"])
    args = parser.parse_args()
    radius = CANDIDATE_RADIUS
    print(f"HashIndex query recall at radius {radius} (share of planted keys found)")
    print("| keys | kind | " + " | ".join(f"d={d}" for d in range(1, radius + 1)) + " | CPU s |")
    print("|---|---|" + "---|" * (radius + 1))
    for n in args.sizes:
        for kind in args.kinds:
            r = measure(n, kind, args.queries, radius)
            cells = " | ".join(f"{r['recall'][d]:.3f}" for d in range(1, radius + 1))
            print(f"| {n:,} | {kind} | {cells} | {r['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
