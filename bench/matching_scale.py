"""Matching time for one photograph held in 5, 20 and 60 versions (issue 14).

Builds N distinct versions of one real photograph (resizes, crops, re-encodes, tone and
colour changes, rotations, mirrors, borders, combined), fingerprints them and writes their
320 px thumbnails as the scanner does, finds candidates with the index
(inventory.pairing.find_candidates) and places them as matching_run does
(inventory.pairs.placement.place_renditions with verify_pair). Prints, per N: candidate pairs,
verifications, verifications per rendition, CPU seconds of the placement, and the
verifications the old rule (every candidate) would have run. CPU time of one process.

  python bench/matching_scale.py [--versions 5 20 60] [--photo astronaut] [--corpus]

Writes var/bench/matching_scale.json (bench/results/matching_scale.json is a committed run).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from inventory.imaging.fingerprints import compute_fingerprints  # noqa: E402
from inventory.imaging.thumbnails import thumbnail_of  # noqa: E402
from inventory.pairs.pairing import FingerprintRows, find_candidates  # noqa: E402
from inventory.pairs.placement import place_renditions  # noqa: E402
from inventory.pairs.verification import RenditionInfo, verify_pair  # noqa: E402

PHOTOS = REPO / "samples" / "photos"


def _geometry(im: Image.Image, k: int) -> Image.Image:
    w, h = im.size
    kind = k % 6
    if kind == 1:
        f = 0.03 + 0.02 * (k // 6 % 5)
        return im.crop((round(w * f), round(h * f), round(w * (1 - f)), round(h * (1 - f))))
    if kind == 2:
        return ImageOps.mirror(im)
    if kind == 3:
        return im.transpose((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)[k // 6 % 2])
    if kind == 4:
        return ImageOps.expand(im, border=round(w * (0.04 + 0.02 * (k // 6 % 3))), fill="white")
    return im


def _tone(im: Image.Image, k: int) -> Image.Image:
    kind = k // 6 % 5
    if kind == 1:
        return ImageEnhance.Brightness(im).enhance(1.1 + 0.03 * (k % 4))
    if kind == 2:
        return ImageOps.grayscale(im).convert("RGB")
    if kind == 3:
        return im.filter(ImageFilter.GaussianBlur(1.5))
    if kind == 4:
        return ImageEnhance.Contrast(im).enhance(1.2)
    return im


def versions(photo: Image.Image, n: int) -> list[Image.Image]:
    """Return n distinct versions of the photograph, the photograph itself first."""
    out = [photo]
    for k in range(1, n):
        im = _tone(_geometry(photo, k), k)
        scale = (1.0, 0.8, 0.6, 0.45)[k % 4]
        if scale != 1.0:
            im = im.resize((round(im.width * scale), round(im.height * scale)))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=60 + (k * 7) % 35)
        with Image.open(buf) as decoded:
            decoded.load()
            out.append(decoded.convert("RGB"))
    return out


def measure(photo: Image.Image, n: int) -> dict:
    ims = versions(photo, n)
    rows = FingerprintRows()
    thumbs, infos = {}, {}
    for rid, im in enumerate(ims, start=1):
        fp = compute_fingerprints(im)
        keys = [("global", fp.phash), *fp.keys]
        probes = [("global", fp.phash), *fp.probes]
        rows.add(rid, keys=_u64([v for _, v in keys]), key_codes=[c for c, _ in keys],
                 probes=_u64([v for _, v in probes]), probe_codes=[c for c, _ in probes],
                 dhash=fp.dhash)  # fmt: skip
        buf = io.BytesIO()
        thumbnail_of(im, 320).convert("RGB").save(buf, "JPEG", quality=80)
        with Image.open(buf) as t:
            t.load()
            thumbs[rid] = t.convert("RGB")
        infos[rid] = RenditionInfo(im.width, im.height, "JPEG", "RGB", len(buf.getvalue()) * 4)
    started = time.process_time()
    candidates = find_candidates(rows, set(thumbs))
    placement = _place(candidates, thumbs, infos)
    seconds = time.process_time() - started
    placed = len(placement.placed)
    return {
        "versions": n,
        "candidates": len(candidates),
        "verifications": len(placement.verified),
        "per_rendition": len(placement.verified) / n,
        "placed": placed,
        "seconds": seconds,
    }


def measure_corpus() -> dict:
    """Place every rendition of the accuracy benchmark's calibration corpus (15 photographs,
    18 edits each, 4 hard negatives) at once, as a first scan of that archive would."""
    import accuracy  # bench/accuracy.py, beside this script

    items = accuracy.build_corpus()
    accuracy.THUMBS = accuracy.OUT / "thumbs-placement"
    accuracy.THUMBS.mkdir(parents=True, exist_ok=True)
    rows = FingerprintRows()
    thumbs, infos, group, ages, seen = {}, {}, {}, {}, set()
    for rid, item in enumerate(items, start=1):
        scanned = accuracy.scan_file(item.path, rid)
        if scanned.pixel_key in seen or scanned.fingerprints is None:
            continue  # a byte or pixel copy is a copy of one rendition, not a new one
        seen.add(scanned.pixel_key)
        fp = scanned.fingerprints
        keys = [("global", fp.phash), *fp.keys]
        probes = [("global", fp.phash), *fp.probes]
        rows.add(rid, keys=_u64([v for _, v in keys]), key_codes=[c for c, _ in keys],
                 probes=_u64([v for _, v in probes]), probe_codes=[c for c, _ in probes],
                 dhash=fp.dhash)  # fmt: skip
        with Image.open(scanned.thumbnail) as t:
            t.load()
            thumbs[rid] = t.convert("RGB")
        infos[rid] = scanned.info
        group[rid] = item.group
        ages[rid] = item.path.stat().st_mtime_ns
    started = time.process_time()
    candidates = find_candidates(rows, set(thumbs))
    placement = _place(candidates, thumbs, infos, ages)
    seconds = time.process_time() - started
    wrong = sum(group[r] != group[p] for r, p in placement.placed.items())
    return {
        "renditions": len(thumbs),
        "candidates": len(candidates),
        "verifications": len(placement.verified),
        "placed": len(placement.placed),
        "placed_with_another_photograph": wrong,
        "seconds": seconds,
    }


def _place(candidates, thumbs, infos, ages=None):
    ages = ages or {}
    by_pair = {(c.a, c.b): c for c in candidates}
    partners: dict[int, list[tuple[int, int]]] = {r: [] for r in thumbs}
    for c in candidates:
        partners[c.a].append((c.b, c.distance))
        partners[c.b].append((c.a, c.distance))

    def verify(pairs):
        found = {}
        for r, p in pairs:
            c = by_pair[tuple(sorted((r, p)))]
            first, second = (c.a, c.b) if c.probe_is_a else (c.b, c.a)
            found[(r, p)] = verify_pair(thumbs[first], thumbs[second], a_info=infos[first],
                                        b_info=infos[second], hint=c.hint)  # fmt: skip
        return found

    # matching_run's order: earliest capture, then the oldest file, then the larger picture.
    # These versions carry no capture time and were written in the order of their ids (the
    # photograph first), so the file age is the id.
    order = sorted(thumbs, key=lambda r: (ages.get(r, r), -(infos[r].width * infos[r].height), r))
    return place_renditions(order, partners, groups={}, masters={}, verify=verify)


def _u64(values):
    import numpy as np

    return np.array(values, dtype=np.uint64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, nargs="+", default=[5, 20, 60])
    parser.add_argument("--photo", default="astronaut")
    parser.add_argument(
        "--corpus", action="store_true", help="also place the accuracy corpus all at once"
    )
    args = parser.parse_args()
    with Image.open(PHOTOS / f"{args.photo}.jpg") as im:
        photo = im.convert("RGB")
    print(f"matching one photograph ({args.photo}) held in N versions; CPU time, one process")
    print("| versions | candidate pairs (old rule: all verified) | verifications | per version |"
          " placed | seconds | ms per version |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    results: dict = {"photo": args.photo, "versions": []}
    for n in args.versions:
        r = measure(photo, n)
        results["versions"].append(r)
        print(f"| {n} | {r['candidates']} | {r['verifications']} | {r['per_rendition']:.2f} |"
              f" {r['placed']} of {n - 1} | {r['seconds']:.2f} |"
              f" {1000 * r['seconds'] / n:.0f} |", flush=True)  # fmt: skip
    if args.corpus:
        r = measure_corpus()
        results["corpus"] = r
        print(f"\naccuracy calibration corpus placed at once: {r['renditions']} renditions,"
              f" {r['candidates']} candidate pairs, {r['verifications']} verifications"
              f" ({r['verifications'] / r['renditions']:.2f} per rendition), {r['placed']}"
              f" placed, {r['placed_with_another_photograph']} with another photograph,"
              f" {r['seconds']:.1f} s")  # fmt: skip

    out = REPO / "var" / "bench" / "matching_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
