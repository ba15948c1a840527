"""Candidate pairs from fingerprints, and their verification on small images. No Django.

Every rendition contributes index keys (its global pHash plus crop-window and border-trimmed
hashes) and probes (its global pHash plus rotated, mirrored and trimmed variants). A pair is
a candidate when a probe of one lies within a few bits of a key of the other, or when their
global dHashes do. Candidates are then verified by inventory.pairs.verification on the thumbnails.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile

from inventory.pairs.index import HashIndex
from inventory.pairs.verification import RenditionInfo, Verdict, verify_pair

# pHash/dHash candidate radius (bits of 64); see docs/matching.md for the calibration.
CANDIDATE_RADIUS = 8
_CODE_BITS = 6  # owners in the index are rendition_id << 6 | variant code index


@dataclass(slots=True)
class FingerprintRows:
    """Fingerprints of many renditions as flat arrays, ready for the index."""

    key_owners: list[np.ndarray] = field(default_factory=list)
    key_hashes: list[np.ndarray] = field(default_factory=list)
    probe_owners: list[np.ndarray] = field(default_factory=list)
    probe_hashes: list[np.ndarray] = field(default_factory=list)
    dhash_owners: list[int] = field(default_factory=list)
    dhash_values: list[int] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def code_index(self, code: str) -> int:
        index = self.codes.setdefault(code, len(self.codes))
        if index >= 1 << _CODE_BITS:
            raise ValueError("too many fingerprint variant codes")
        return index

    def add(
        self,
        rendition_id: int,
        *,
        keys: np.ndarray,
        key_codes: list[str],
        probes: np.ndarray,
        probe_codes: list[str],
        dhash: int | None,
    ) -> None:
        """Add one rendition's keys, probes and global dHash."""
        base = rendition_id << _CODE_BITS
        self.key_owners.append(
            np.array([base | self.code_index(c) for c in key_codes], dtype=np.int64)
        )
        self.key_hashes.append(keys)
        self.probe_owners.append(
            np.array([base | self.code_index(c) for c in probe_codes], dtype=np.int64)
        )
        self.probe_hashes.append(probes)
        if dhash is not None:
            self.dhash_owners.append(rendition_id << _CODE_BITS | self.code_index("dhash"))
            self.dhash_values.append(dhash)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        def cat(parts: list[np.ndarray], dtype: npt.DTypeLike) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)

        return (
            cat(self.key_owners, np.int64),
            cat(self.key_hashes, np.uint64),
            cat(self.probe_owners, np.int64),
            cat(self.probe_hashes, np.uint64),
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pair of renditions worth verifying, with the variant codes that brought it up."""

    a: int
    b: int
    distance: int
    hint: str  # "<probe code>><key code>", e.g. "r90>global"
    probe_is_a: bool  # which rendition's probe found the other's key


def _decode(rows: np.ndarray, names: dict[int, str]) -> list[tuple[int, int, int, str, str]]:
    mask = (1 << _CODE_BITS) - 1
    out = []
    for q, k, d in rows.tolist():
        out.append((q >> _CODE_BITS, k >> _CODE_BITS, d, names[q & mask], names[k & mask]))
    return out


def find_candidates(
    everything: FingerprintRows, new_ids: set[int], radius: int = CANDIDATE_RADIUS
) -> list[Candidate]:
    """Return candidate pairs that involve at least one new rendition."""
    key_owners, key_hashes, probe_owners, probe_hashes = everything.arrays()
    names = {index: code for code, index in everything.codes.items()}
    shift = np.int64(_CODE_BITS)
    is_new_key = np.isin(key_owners >> shift, list(new_ids))
    is_new_probe = np.isin(probe_owners >> shift, list(new_ids))
    found: list[tuple[int, int, int, str, str]] = []
    # New probes against every key, then every old probe against the new keys only: each
    # old-old pair was examined when the older of the two was new.
    index = HashIndex(key_owners, key_hashes)
    found += _decode(
        index.query(probe_owners[is_new_probe], probe_hashes[is_new_probe], radius), names
    )
    new_index = HashIndex(key_owners[is_new_key], key_hashes[is_new_key])
    found += _decode(
        new_index.query(probe_owners[~is_new_probe], probe_hashes[~is_new_probe], radius), names
    )
    if everything.dhash_owners:
        d_owners = np.array(everything.dhash_owners, dtype=np.int64)
        d_values = np.array(everything.dhash_values, dtype=np.uint64)
        is_new = np.isin(d_owners >> shift, list(new_ids))
        found += _decode(
            HashIndex(d_owners, d_values).query(d_owners[is_new], d_values[is_new], radius), names
        )
    best: dict[tuple[int, int], Candidate] = {}
    for q_id, k_id, distance, q_code, k_code in found:
        if q_id == k_id:
            continue
        a, b = sorted((q_id, k_id))
        current = best.get((a, b))
        if current is None or distance < current.distance:
            best[(a, b)] = Candidate(
                a=a, b=b, distance=distance, hint=f"{q_code}>{k_code}", probe_is_a=q_id == a
            )
    return sorted(best.values(), key=lambda c: (c.a, c.b))


@dataclass(frozen=True, slots=True)
class VerifyJob:
    """One candidate to verify: the two thumbnails and what is known of each rendition."""

    a: int
    b: int
    thumb_a: str
    thumb_b: str
    info_a: RenditionInfo
    info_b: RenditionInfo
    hint: str
    probe_is_a: bool


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of one job: a verdict, or why there is none and whose thumbnail failed."""

    a: int
    b: int
    verdict: Verdict | None
    error: str = ""
    unreadable: int | None = None  # the rendition whose thumbnail could not be read


def _load_rgb(path: str) -> Image.Image:
    """Read a thumbnail whole; a truncated or missing one raises, never pads with grey."""
    with Image.open(Path(path)) as im:
        return im.convert("RGB")


def verify_jobs(jobs: list[VerifyJob]) -> list[VerifyResult]:
    """Verify each job; a job whose thumbnails cannot be read has no verdict.

    The verifier is given the probing rendition first, so the hint reads in its order;
    the verdict's "original" is mapped back to the pair's a/b.
    """
    # WeasyPrint and face_recognition set this to True when imported in the same process; a
    # truncated thumbnail must fail here, not compare as half grey and read as "not same".
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    results: list[VerifyResult] = []
    for job in jobs:
        sides = [(job.a, job.thumb_a, job.info_a), (job.b, job.thumb_b, job.info_b)]
        if not job.probe_is_a:
            sides.reverse()
        images = []
        for rendition_id, thumb, _ in sides:
            try:
                images.append(_load_rgb(thumb))
            except (OSError, ValueError) as exc:
                error = f"thumbnail {thumb} cannot be read ({type(exc).__name__}: {exc})"
                results.append(VerifyResult(job.a, job.b, None, error, rendition_id))
                break
        if len(images) < 2:
            continue
        try:
            verdict = verify_pair(
                images[0], images[1], a_info=sides[0][2], b_info=sides[1][2], hint=job.hint
            )
        except (OSError, ValueError) as exc:
            results.append(VerifyResult(job.a, job.b, None, f"{type(exc).__name__}: {exc}"))
            continue
        if not job.probe_is_a and verdict.original in ("a", "b"):
            verdict = replace(verdict, original="b" if verdict.original == "a" else "a")
        # The evidence reads in the verifier's order: say which rendition was its first
        # picture, so a face box can be carried through the registration either way.
        verdict.evidence["first"] = job.a if job.probe_is_a else job.b
        results.append(VerifyResult(job.a, job.b, verdict))
    return results
