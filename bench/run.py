"""make bench: Provena's scan against its references, measured in one run on one machine.

Prints a table and writes var/bench/results.json. Every figure is measured here, now; the
corpus is generated from the real sample photographs (samples/photos) and cached.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH = REPO / "var" / "bench"


def _setup_django(db: Path, allowed: Path) -> None:
    if db.exists():
        db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["PROVENA_ALLOWED_ROOTS"] = str(allowed)
    os.environ["PROVENA_MEDIA_ROOT"] = str(BENCH / "media")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _walk_sha256(root: Path) -> None:
    for dirpath, _, names in os.walk(root):
        for name in names:
            digest = hashlib.sha256()
            with open(os.path.join(dirpath, name), "rb") as fh:  # noqa: PTH123,PTH118
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)


def _walk_stat(root: Path) -> None:
    for dirpath, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(dirpath, name))  # noqa: PTH116,PTH118


def _phash_full(paths: list[Path]) -> None:
    import imagehash
    from PIL import Image

    for path in paths:
        with Image.open(path) as im:
            imagehash.phash(im)


def _reduced_decode(paths: list[Path]) -> None:
    from PIL import Image

    for path in paths:
        with Image.open(path) as im:
            im.draft("RGB", (im.width // 8, im.height // 8))
            im.load()


def _scan(source_root: Path, name: str, workers: int):
    from inventory.services.scan import scan_run
    from inventory.services.sources import source_register

    source = source_register(root=source_root, name=name)
    scan = scan_run(source=source, workers=workers)
    assert scan.status == "finished", scan.failure_reason
    return scan


def _scan_seconds(scan) -> float:
    return scan.timings["walk_seconds"] + scan.timings["examine_seconds"]


def _small_tree(root: Path, count: int) -> None:
    """Hard-link the sample photos into count paths: many files, little disk."""
    from inventory.sample_archive import PHOTOS_DIR

    photos = sorted(PHOTOS_DIR.glob("*.jpg"))
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        folder = root / f"d{index // 1000:03d}"
        folder.mkdir(exist_ok=True)
        target = folder / f"f{index:06d}.jpg"
        if not target.exists():
            os.link(photos[index % len(photos)], target)


def _planted_hashes(n: int, seed: int):
    """Return n uniform random 64-bit hashes plus a 5% share of near copies at distance 0-10."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    k = n // 20
    src = rng.choice(n, size=k, replace=False)
    dist = rng.integers(0, 11, size=k)
    flips = np.zeros(k, dtype=np.uint64)
    for i in range(k):
        for bit in rng.choice(64, size=int(dist[i]), replace=False):
            flips[i] |= np.uint64(1) << np.uint64(int(bit))
    hashes = np.concatenate([base, base[src] ^ flips])
    return hashes, src, dist, n


def _index_join(total: int, radius: int = 8) -> dict:
    """Join `total` hashes with the candidate index; return time and recall by distance."""
    import numpy as np

    from inventory.hashindex import HashIndex

    hashes, src, dist, n = _planted_hashes(int(total / 1.05), seed=total)
    owners = np.arange(len(hashes), dtype=np.int64)
    started = time.perf_counter()
    pairs = HashIndex(owners, hashes).join(radius)
    seconds = time.perf_counter() - started
    found = set(map(tuple, pairs[:, :2].tolist()))
    recall = {}
    for d in range(0, radius + 1):
        sel = [(int(min(s, n + i)), int(max(s, n + i))) for i, s in enumerate(src) if dist[i] == d]
        recall[d] = round(float(np.mean([p in found for p in sel])), 3) if sel else None
    return {
        "hashes": len(hashes),
        "seconds": round(seconds, 2),
        "pairs": len(pairs),
        "recall_by_distance": recall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=200, help="12 MP JPEGs in the corpus")
    parser.add_argument("--small-files", type=int, default=20_000, help="files in rescan tree")
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument(
        "--index-sizes",
        default="100000,300000,1000000",
        help="hash counts for the near-duplicate join",
    )
    args = parser.parse_args()

    from inventory.sample_archive import make_camera_corpus

    corpus_root = BENCH / "archives" / "corpus"
    print(f"preparing {args.files} camera JPEGs of {args.megapixels} MP (cached) ...", flush=True)
    make_camera_corpus(corpus_root, args.files, megapixels=args.megapixels, seed=0)
    small_root = BENCH / "archives" / "small"
    _small_tree(small_root, args.small_files)
    paths = _files(corpus_root)
    total_bytes = sum(p.stat().st_size for p in paths)
    _setup_django(BENCH / "bench.sqlite3", BENCH / "archives")
    for path in paths:  # warm the page cache so every contender reads from memory
        path.read_bytes()

    n = len(paths)
    mb = total_bytes / 1e6
    results: dict[str, dict] = {}

    def record(name: str, seconds: float, count: int, megabytes: float | None = None) -> None:
        results[name] = {
            "seconds": round(seconds, 3),
            "files_per_s": round(count / seconds, 1),
            "mb_per_s": round(megabytes / seconds, 1) if megabytes else None,
            "files": count,
        }
        print(f"  {name:<46} {count / seconds:>10.1f} files/s  {seconds:>8.2f} s", flush=True)

    print(f"corpus: {n} files, {mb:.0f} MB; cores: {os.cpu_count()}")
    record(
        "reference: walk + SHA-256 (1 process)", _timed(lambda: _walk_sha256(corpus_root)), n, mb
    )
    record(
        "reference: imagehash.phash, full decode (1 proc)", _timed(lambda: _phash_full(paths)), n
    )
    record("floor: bare reduced JPEG decode (1 process)", _timed(lambda: _reduced_decode(paths)), n)
    scan1 = _scan(corpus_root, "corpus", workers=1)
    # The scan proper (walk, read, SHA-256, pixel identity, metadata, fingerprints, thumbnail,
    # recording) is what the references do; near-duplicate matching is timed on its own.
    record("provena scan, 1 worker", _scan_seconds(scan1), n, mb)
    record("provena near-duplicate matching of the corpus", scan1.timings["matching_seconds"], n)

    # Same corpus again under another source name with two workers, from scratch.
    from inventory.models import Copy, Rendition, Scan, Source

    Copy.objects.all().delete()
    Scan.objects.all().delete()
    Source.objects.all().delete()
    Rendition.objects.all().delete()
    scan2 = _scan(corpus_root, "corpus", workers=2)
    record("provena scan, 2 workers", _scan_seconds(scan2), n, mb)
    rescan = _scan(corpus_root, "corpus", workers=2)
    record("provena unchanged rescan (12 MP corpus)", rescan.timings["total_seconds"], n)

    small_n = len(_files(small_root))
    first = _scan(small_root, "small", workers=2)
    record("provena first scan, small files", first.timings["total_seconds"], small_n)
    record(
        "reference: os.walk + os.stat, small files", _timed(lambda: _walk_stat(small_root)), small_n
    )
    again = _scan(small_root, "small", workers=2)
    record("provena unchanged rescan, small files", again.timings["total_seconds"], small_n)

    ratios = {
        "scan_1w_vs_phash_full": round(
            results["provena scan, 1 worker"]["files_per_s"]
            / results["reference: imagehash.phash, full decode (1 proc)"]["files_per_s"],
            2,
        ),
        "reduced_decode_vs_scan_1w": round(
            results["floor: bare reduced JPEG decode (1 process)"]["files_per_s"]
            / results["provena scan, 1 worker"]["files_per_s"],
            2,
        ),
        "scan_2w_vs_1w": round(
            results["provena scan, 2 workers"]["files_per_s"]
            / results["provena scan, 1 worker"]["files_per_s"],
            2,
        ),
        "scan_2w_mb_s_vs_walk_sha256": round(
            results["provena scan, 2 workers"]["mb_per_s"]
            / results["reference: walk + SHA-256 (1 process)"]["mb_per_s"],
            2,
        ),
    }
    print("near-duplicate candidate join (radius 8, planted near copies):")
    joins = []
    for size in (int(x) for x in args.index_sizes.split(",") if x):
        row = _index_join(size)
        joins.append(row)
        print(
            f"  {row['hashes']:>9,} hashes  {row['seconds']:>7.2f} s  "
            f"recall d<=4 {min(v for k, v in row['recall_by_distance'].items() if k <= 4)}  "
            f"d=6 {row['recall_by_distance'][6]}  d=8 {row['recall_by_distance'][8]}",
            flush=True,
        )
    print("ratios:")
    for key, value in ratios.items():
        print(f"  {key:<40} {value}")
    rescan_rate = results["provena unchanged rescan, small files"]["files_per_s"]
    print(f"unchanged rescan: {rescan_rate:,.0f} files/s (target at least 2,000)")
    out = BENCH / "results.json"
    out.write_text(
        json.dumps({"results": results, "ratios": ratios, "index_join": joins}, indent=2)
    )
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
