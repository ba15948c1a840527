"""Tests for inventory.pairs.index: near-neighbour queries over 64-bit hashes, vs brute force."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps
from skimage import data as skdata

from inventory.imaging.fingerprints import compute_fingerprints
from inventory.pairs import index
from inventory.pairs.index import HashIndex, cross_join, hamming, pack_hashes, unpack_hashes
from inventory.pairs.pairing import CANDIDATE_RADIUS


def brute_force(q_owners, q_hashes, owners, hashes, radius) -> set[tuple[int, int, int]]:
    """Return every (query owner, index owner, distance) within radius, comparing all pairs."""
    found = {}
    for qo, qh in zip(q_owners.tolist(), q_hashes, strict=True):
        d = hamming(np.full(len(hashes), qh, dtype=np.uint64), hashes)
        for i in np.nonzero(d <= radius)[0]:
            if owners[i] == qo:
                continue
            key = (qo, int(owners[i]))
            found[key] = min(found.get(key, 64), int(d[i]))
    return {(a, b, d) for (a, b), d in found.items()}


def rows(result: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(r) for r in result.tolist()}


def flipped(value: int, bits: int, rng: np.random.Generator) -> int:
    for bit in rng.choice(64, size=bits, replace=False):
        value ^= 1 << int(bit)
    return value


def random_keys(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array([int(rng.integers(0, 2**62)) << 2 | int(rng.integers(0, 4)) for _ in range(n)],
                    dtype=np.uint64)  # fmt: skip


def planted_queries(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (query owners, queries, owners, keys): 20,000 random keys and 400 queries
    planted at every distance from 0 to 12 from known keys (up to the radius and beyond)."""
    rng = np.random.default_rng(seed)
    keys = random_keys(20_000, rng)
    picked = rng.choice(len(keys), size=400, replace=False)
    q_hashes = np.array(
        [flipped(int(keys[p]), int(d), rng) for p, d in zip(picked, itertools.cycle(range(13)))],
        dtype=np.uint64,
    )
    q_owners = -1 - np.arange(len(q_hashes), dtype=np.int64)
    return q_owners, q_hashes, np.arange(len(keys), dtype=np.int64), keys


@pytest.mark.parametrize("radius", [6, CANDIDATE_RADIUS])
def test_query_finds_what_brute_force_finds_on_random_keys(radius):
    q_owners, q_hashes, owners, keys = planted_queries(radius)
    expected = brute_force(q_owners, q_hashes, owners, keys, radius)
    assert len(expected) >= 400 * min(radius + 1, 13) / 13 * 0.9  # the planted ones are there
    assert rows(HashIndex(owners, keys).query(q_owners, q_hashes, radius)) == expected


def test_query_finds_what_brute_force_finds_on_real_photographs_and_their_copies():
    names = ["astronaut", "coffee", "camera", "chelsea", "rocket", "coins", "moon", "page"]
    owners, hashes, q_owners, q_hashes = [], [], [], []
    rendition = 0
    for name in names:
        picture = Image.fromarray(getattr(skdata, name)()).convert("RGB")
        w, h = picture.size
        copies = [
            picture,
            picture.crop((w // 10, h // 10, w - w // 10, h - h // 10)),
            ImageOps.mirror(picture),
            picture.transpose(Image.Transpose.ROTATE_90),
            ImageEnhance.Brightness(picture).enhance(1.2),
            ImageOps.expand(picture, border=w // 12, fill=(255, 255, 255)),
        ]
        for im in copies:
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=70)
            with Image.open(buf) as decoded:
                fp = compute_fingerprints(decoded.convert("RGB"))
            owners += [rendition] * (1 + len(fp.keys))
            hashes += [fp.phash] + [v for _, v in fp.keys]
            q_owners += [rendition] * (1 + len(fp.probes))
            q_hashes += [fp.phash] + [v for _, v in fp.probes]
            rendition += 1
    owners_a, hashes_a = np.array(owners, np.int64), np.array(hashes, np.uint64)
    q_owners_a, q_hashes_a = np.array(q_owners, np.int64), np.array(q_hashes, np.uint64)
    expected = brute_force(q_owners_a, q_hashes_a, owners_a, hashes_a, CANDIDATE_RADIUS)
    found = rows(HashIndex(owners_a, hashes_a).query(q_owners_a, q_hashes_a, CANDIDATE_RADIUS))
    assert found == expected
    # Real copies are found at all: each photograph's copies link to one another.
    linked = {(a // 6, b // 6) for a, b, _ in found}
    assert all((i, i) in linked for i in range(len(names)))


def test_join_finds_every_pair_within_the_radius_once():
    rng = np.random.default_rng(3)
    centres = random_keys(300, rng)
    near = [flipped(int(c), int(rng.integers(0, 9)), rng) for c in centres for _ in range(3)]
    keys = np.array(near, dtype=np.uint64)
    owners = np.arange(len(keys), dtype=np.int64)
    expected = {
        (i, j, int(hamming(keys[i : i + 1], keys[j : j + 1])[0]))
        for i, j in itertools.combinations(range(len(keys)), 2)
        if int(hamming(keys[i : i + 1], keys[j : j + 1])[0]) <= CANDIDATE_RADIUS
    }
    assert rows(HashIndex(owners, keys).join(CANDIDATE_RADIUS)) == expected


def test_reported_distances_are_the_true_hamming_distances():
    rng = np.random.default_rng(5)
    keys = random_keys(5000, rng)
    owners = np.arange(len(keys), dtype=np.int64)
    queries = np.array([flipped(int(k), 5, rng) for k in keys[:200]], dtype=np.uint64)
    result = HashIndex(owners, keys).query(np.arange(-200, 0), queries, CANDIDATE_RADIUS)
    assert len(result)
    for q, o, d in result.tolist():
        assert d == bin(int(queries[q + 200]) ^ int(keys[o])).count("1") <= CANDIDATE_RADIUS


def test_a_rendition_is_never_its_own_neighbour():
    keys = np.array([1, 1, 3], dtype=np.uint64)
    owners = np.array([7, 7, 8], dtype=np.int64)
    assert rows(HashIndex(owners, keys).query(owners, keys, 2)) == {(7, 8, 1), (8, 7, 1)}
    assert rows(HashIndex(owners, keys).join(2)) == {(7, 8, 1)}


def test_empty_index_or_queries_give_no_rows():
    empty = np.empty(0, dtype=np.uint64)
    index = HashIndex(np.empty(0, dtype=np.int64), empty)
    assert index.query(np.array([1]), np.array([5], dtype=np.uint64), 8).shape == (0, 3)
    assert index.join(8).shape == (0, 3)
    full = HashIndex(np.array([1]), np.array([5], dtype=np.uint64))
    assert full.query(np.empty(0, dtype=np.int64), empty, 8).shape == (0, 3)


def test_owners_and_hashes_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        HashIndex(np.array([1, 2]), np.array([5], dtype=np.uint64))


def test_packed_hashes_round_trip():
    values = [0, 1, 2**63, 2**64 - 1, 0x0123456789ABCDEF]
    assert unpack_hashes(pack_hashes(values)).tolist() == values
    assert unpack_hashes(None).tolist() == []


def test_cross_join_finds_what_brute_force_finds_between_two_sets():
    q_owners, q_hashes, owners, keys = planted_queries(31)
    expected = brute_force(q_owners, q_hashes, owners, keys, CANDIDATE_RADIUS)
    assert len(expected) >= 400 * 9 / 13 * 0.9
    assert rows(cross_join(q_owners, q_hashes, owners, keys, CANDIDATE_RADIUS)) == expected


def test_cross_join_gives_the_same_rows_on_several_processes(monkeypatch):
    q_owners, q_hashes, owners, keys = planted_queries(32)
    alone = cross_join(q_owners, q_hashes, owners, keys, CANDIDATE_RADIUS)
    monkeypatch.setattr(index, "_PARALLEL_FROM", 0)  # these sets are small; share them anyway
    shared = cross_join(q_owners, q_hashes, owners, keys, CANDIDATE_RADIUS, workers=2)
    assert len(alone) >= 250  # the planted queries within the radius
    assert np.array_equal(alone, shared)


def test_wide_and_narrow_lookup_tables_permute_alike(monkeypatch):
    hashes = random_keys(5_000, np.random.default_rng(33))
    for perm in index._permutations(4, seed=7):
        narrow = perm.apply(hashes)
        monkeypatch.setattr(index, "_WIDE_LOOKUP_FROM", 0)
        wide = perm.apply(hashes)
        monkeypatch.undo()
        assert np.array_equal(narrow, wide)
        # A permutation keeps every hash's number of set bits.
        assert np.array_equal(np.bitwise_count(narrow), np.bitwise_count(hashes))
