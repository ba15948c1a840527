"""Near-neighbour search over 64-bit perceptual hashes without comparing all pairs.

Sorted bit permutations (Charikar; Manku et al., "Detecting near-duplicates for web
crawling"): each table applies a fixed random permutation of the 64 bits and sorts the
hashes; two hashes within a small Hamming distance share a long prefix in some tables and
then sit within a few places of each other. Each table costs one sort and a few vector
comparisons, so a join over N hashes costs O(tables x N log N), and a query of k new hashes
against an existing index costs O(tables x k log N). Hamming distance is preserved by a bit
permutation, so distances are computed on the permuted values. Pure numpy; no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

# Query recall at distance 8 in 1M keys (bench/hashindex_recall.py, docs/matching.md):
# 0.997 uniform, 0.999 clustered with these; 40 tables and a window of 16 gave 0.985 / 0.988.
DEFAULT_TABLES = 56
DEFAULT_WINDOW = 20
_WIDE_LOOKUP_FROM = 100_000  # hashes; below it the 8-bit lookup tables are cheaper
_PARALLEL_FROM = 1_000_000  # hashes in a cross join; below it starting processes costs more


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the bitwise Hamming distance of two uint64 arrays."""
    return np.bitwise_count(np.bitwise_xor(a, b))


def pack_hashes(values: Iterable[int]) -> bytes:
    """Return 64-bit hashes packed little-endian, as stored on a rendition."""
    return np.array(list(values), dtype="<u8").tobytes()


def unpack_hashes(blob: bytes | memoryview | None) -> np.ndarray:
    """Return the hashes packed by pack_hashes."""
    if not blob:
        return np.empty(0, dtype=np.uint64)
    return np.frombuffer(bytes(blob), dtype="<u8").astype(np.uint64)


def hex_distance(hash_a: str, hash_b: str) -> int:
    """Return the Hamming distance of two hex 64-bit hashes (64 when either is missing)."""
    if not hash_a or not hash_b:
        return 64
    return (int(hash_a, 16) ^ int(hash_b, 16)).bit_count()


@dataclass(frozen=True, slots=True)
class _Permutation:
    luts: np.ndarray  # (8, 256) uint64: where each byte's bits land, byte 0 least significant

    def apply(self, hashes: np.ndarray) -> np.ndarray:
        """Return the hashes with their 64 bits permuted."""
        hashes = np.ascontiguousarray(hashes, dtype="<u8")
        if len(hashes) >= _WIDE_LOOKUP_FROM:
            # Four lookups of 16 bits instead of eight of 8: half the gathers over a long
            # array, for 2 MB of tables built per call (4 ms; not worth it for a few hashes).
            values = np.arange(65536, dtype=np.uint64)
            low, high = values & np.uint64(255), values >> np.uint64(8)
            words = hashes.view(np.uint16).reshape(-1, 4)
            out = self.luts[0][low][words[:, 0]] | self.luts[1][high][words[:, 0]]
            for column in range(1, 4):
                wide = self.luts[2 * column][low] | self.luts[2 * column + 1][high]
                out |= wide[words[:, column]]
            return out
        as_bytes = hashes.view(np.uint8).reshape(-1, 8)
        out = self.luts[0][as_bytes[:, 0]]
        for column in range(1, 8):
            out = out | self.luts[column][as_bytes[:, column]]
        return out


def _permutations(tables: int, seed: int) -> list[_Permutation]:
    """Return independent, uniformly random permutations of the 64 bits.

    Every table's leading bits come from anywhere in the hash: a permutation that only
    reorders whole bytes draws its leading 16 bits from 56 byte pairs, so its tables miss
    together (measured: 0.979 recall at distance 8 in 300k keys, against 0.995 and up).
    """
    rng = np.random.default_rng(seed)
    values = np.arange(256, dtype=np.uint64)
    perms = []
    for _ in range(tables):
        target = rng.permutation(64)  # source bit i goes to bit target[i]
        luts = np.zeros((8, 256), dtype=np.uint64)
        for column in range(8):
            for bit in range(8):
                moved = np.uint64(1) << np.uint64(target[8 * column + bit])
                luts[column] |= np.where((values >> np.uint64(bit)) & np.uint64(1), moved, 0)
        perms.append(_Permutation(luts=luts))
    return perms


def _unique_pairs(a: np.ndarray, b: np.ndarray, d: np.ndarray, ordered: bool) -> np.ndarray:
    """Return rows (a, b, distance) without repeats; unordered pairs put the smaller first."""
    if not ordered:
        a, b = np.minimum(a, b), np.maximum(a, b)
    rows = np.stack([a, b, d.astype(np.int64)], axis=1)
    if not len(rows):
        return rows.reshape(0, 3)
    # Keep the smallest distance per pair.
    rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 1] != rows[:-1, 1])
    return rows[keep]


class HashIndex:
    """An index of (owner, hash) rows answering "which rows lie within radius r".

    Tables are built one at a time and dropped, so memory stays at one sorted copy of the
    hashes however many tables are used; the permutations are fixed by the seed, so the same
    rows always give the same answer.
    """

    def __init__(
        self,
        owners: np.ndarray,
        hashes: np.ndarray,
        *,
        tables: int = DEFAULT_TABLES,
        window: int = DEFAULT_WINDOW,
        seed: int = 20261122,
    ) -> None:
        self.owners = np.asarray(owners, dtype=np.int64)
        self.hashes = np.asarray(hashes, dtype=np.uint64)
        if self.owners.shape != self.hashes.shape:
            raise ValueError("owners and hashes must have the same length")
        self.window = window
        self._perms = _permutations(tables, seed)

    def __len__(self) -> int:
        return len(self.hashes)

    def _tables(self) -> Iterator[tuple[_Permutation, np.ndarray, np.ndarray]]:
        for perm in self._perms:
            permuted = perm.apply(self.hashes)
            order = np.argsort(permuted)
            yield perm, permuted[order], self.owners[order]

    def join(self, radius: int) -> np.ndarray:
        """Return unordered owner pairs (a < b, distance) within radius, among the rows."""
        found_a, found_b, found_d = [], [], []
        for _, keys, owners in self._tables():
            for step in range(1, self.window + 1):
                if step >= len(keys):
                    break
                d = hamming(keys[:-step], keys[step:])
                hit = (d <= radius) & (owners[:-step] != owners[step:])
                found_a.append(owners[:-step][hit])
                found_b.append(owners[step:][hit])
                found_d.append(d[hit])
        if not found_a:
            return np.empty((0, 3), dtype=np.int64)
        return _unique_pairs(
            np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_d), False
        )

    def query(self, owners: np.ndarray, hashes: np.ndarray, radius: int) -> np.ndarray:
        """Return (query owner, index owner, distance) rows within radius of each query."""
        q_owners = np.asarray(owners, dtype=np.int64)
        q_hashes = np.asarray(hashes, dtype=np.uint64)
        if not len(self.hashes) or not len(q_hashes):
            return np.empty((0, 3), dtype=np.int64)
        found_a, found_b, found_d = [], [], []
        for perm, keys, key_owners in self._tables():
            permuted = perm.apply(q_hashes)
            pos = np.searchsorted(keys, permuted)
            for offset in range(-self.window, self.window):
                idx = pos + offset
                valid = (idx >= 0) & (idx < len(keys))
                idx = np.where(valid, idx, 0)
                d = hamming(permuted, keys[idx])
                hit = valid & (d <= radius) & (q_owners != key_owners[idx])
                found_a.append(q_owners[hit])
                found_b.append(key_owners[idx][hit])
                found_d.append(d[hit])
        return _unique_pairs(
            np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_d), True
        )


def _sorted_with_origin(permuted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the permuted hashes sorted by their leading 32 bits, and where each came from.

    One sort of (leading 32 bits, position) packed in a word costs about half an argsort and
    a gather over the same values; rows tied on 32 leading bits stay together (in position
    order), which is all the window passes need.
    """
    if len(permuted) >= 2**32:
        order = np.argsort(permuted)
        return permuted[order], order
    packed = (permuted >> np.uint64(32)) << np.uint64(32)
    packed |= np.arange(len(permuted), dtype=np.uint64)
    packed.sort()
    order = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return permuted[order], order


def _cross_tables(
    hashes: np.ndarray,
    owners: np.ndarray,
    n_a: int,
    radius: int,
    perms: list[_Permutation],
    window: int,
) -> np.ndarray:
    """Return the crossing (a owner, b owner, distance) rows the given tables find.

    hashes and owners hold set a's n_a rows first, then set b's.
    """
    found_a, found_b, found_d = [], [], []
    for perm in perms:
        keys, order = _sorted_with_origin(perm.apply(hashes))
        for step in range(1, window + 1):
            if step >= len(keys):
                break
            d = hamming(keys[:-step], keys[step:])
            near = np.flatnonzero(d <= radius)
            if not len(near):
                continue
            left, right = order[near], order[near + step]
            cross = (left < n_a) != (right < n_a)
            left, right = left[cross], right[cross]
            a_side = np.where(left < n_a, left, right)
            b_side = np.where(left < n_a, right, left)
            found_a.append(owners[a_side])
            found_b.append(owners[b_side])
            found_d.append(d[near][cross])
    if not found_a:
        return np.empty((0, 3), dtype=np.int64)
    return _unique_pairs(
        np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_d), True
    )


def cross_join(
    a_owners: np.ndarray,
    a_hashes: np.ndarray,
    b_owners: np.ndarray,
    b_hashes: np.ndarray,
    radius: int,
    *,
    tables: int = DEFAULT_TABLES,
    window: int = DEFAULT_WINDOW,
    seed: int = 20261122,
    workers: int = 1,
) -> np.ndarray:
    """Return (a owner, b owner, distance) rows within radius, pairs across the two sets only.

    The join of HashIndex over both sets sorted together, keeping the pairs that cross: each
    table costs one sort and `window` passes over contiguous slices, where a query of one set
    against an index of the other gathers 2 x window times at random. For comparing two
    archives of a million renditions each. With workers > 1 (and a million hashes or more) the
    tables are shared out among that many processes; the rows are the same whatever the number.
    """
    n_a = len(a_hashes)
    if not n_a or not len(b_hashes):
        return np.empty((0, 3), dtype=np.int64)
    hashes = np.concatenate([np.asarray(a_hashes, dtype=np.uint64),
                             np.asarray(b_hashes, dtype=np.uint64)])  # fmt: skip
    owners = np.concatenate([np.asarray(a_owners, dtype=np.int64),
                             np.asarray(b_owners, dtype=np.int64)])  # fmt: skip
    perms = _permutations(tables, seed)
    workers = max(1, min(workers, tables))
    if workers == 1 or len(hashes) < _PARALLEL_FROM:
        return _cross_tables(hashes, owners, n_a, radius, perms, window)
    shares = [perms[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_cross_tables, hashes, owners, n_a, radius, share, window)
            for share in shares
        ]
        parts = [future.result() for future in futures]
    rows = np.concatenate(parts)
    return _unique_pairs(rows[:, 0], rows[:, 1], rows[:, 2], True)
