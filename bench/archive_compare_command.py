"""Time the whole `manage.py compare_archive` a user waits for, N x N renditions (issue 22).

SYNTHETIC FINGERPRINT ROWS, for scale only, the same as bench/archive_compare.py (which times
the steps in one process without the database): the local side is bulk-loaded into a
temporary SQLite database (one asset, rendition and copy per row, fingerprints as the
scanner stores them), the partner's side written as a signed bundle. Then

    manage.py compare_archive partner.zip --format json

runs as its own process, timed from start to exit, its peak memory the child's maximum
resident set size; its JSON totals are checked against what was planted.

  python bench/archive_compare_command.py [--renditions 1000000] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="provena-bench-compare-"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["PROVENA_MEDIA_ROOT"] = str(WORK / "media")
os.environ.setdefault("SECRET_KEY", "provena-bench-only-key")
sys.path.insert(0, str(REPO / "bench"))

import archive_compare as synthetic  # noqa: E402  (sets Django up with the database above)
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from governance.models import Department  # noqa: E402
from inventory.models import Asset, Copy, Rendition, Source  # noqa: E402

_BATCH = 20_000


def _seed(side: synthetic.Side) -> None:
    """Bulk-load one asset, rendition and copy per row of the local side."""
    now = timezone.now()
    department = Department.objects.create(code="DEPT", name="DEPT")
    source = Source.objects.create(name="ours", root="/bench/ours", department=department)
    n = len(side.phash)
    for start in range(0, n, _BATCH):
        rows = range(start, min(n, start + _BATCH))
        assets = Asset.objects.bulk_create([Asset() for _ in rows])
        renditions = []
        for i, asset in zip(rows, assets, strict=True):
            phash, dhash, keys, probes = side.fingerprint(i)
            renditions.append(
                Rendition(
                    asset=asset,
                    pixel_hash=side.pixels[i],
                    format="JPEG",
                    width=3000,
                    height=2000,
                    mode="RGB",
                    phash=phash,
                    dhash=dhash,
                    fp_keys=keys,
                    fp_probes=probes,
                )  # fmt: skip
            )
        renditions = Rendition.objects.bulk_create(renditions)
        Copy.objects.bulk_create(
            [
                Copy(
                    source=source,
                    path=f"{i // 1000:04d}/img_{i:07d}.jpg",
                    size=int(side.sizes[i]),
                    mtime_ns=0,
                    sha256=side.shas[i],
                    rendition=rendition,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                for i, rendition in zip(rows, renditions, strict=True)
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renditions", type=int, default=1_000_000)
    parser.add_argument(
        "--output", default=str(REPO / "bench/results/archive_compare_command.json")
    )
    args = parser.parse_args()
    n = args.renditions
    try:
        call_command("migrate", verbosity=0)
        ours, partner, _, _ = synthetic.planted_sides(n)
        started = time.perf_counter()
        _seed(ours)
        seeded = time.perf_counter()
        bundle = synthetic.partner_bundle_write(partner, WORK)
        del ours, partner
        command = [sys.executable, str(REPO / "manage.py"), "compare_archive", str(bundle),
                   "--format", "json"]  # fmt: skip
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        elapsed = time.perf_counter() - began
        if done.returncode:
            raise SystemExit(f"compare_archive failed ({done.returncode}):\n{done.stderr}")
        summary = json.loads(done.stdout)
        child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        planted = {"exact": n // 10, "exact_files": (n // 10 + 1) // 2, "near": n // 10}
        found = {key: summary[key] for key in ("exact", "exact_files", "near", "bytes_exact")}
        if found["exact"] != planted["exact"] or found["exact_files"] != planted["exact_files"]:
            raise SystemExit(f"the command found {found}, planted {planted}")
        result = {
            "synthetic_rows": True,
            "renditions_per_side": n,
            "database": "SQLite (temporary file)",
            "planted": planted,
            "found": found,
            "seconds": {
                "seed_database_not_timed_by_users": round(seeded - started, 1),
                "compare_archive_command": round(elapsed, 1),
            },
            "compare_archive_peak_rss_mb": round(child_peak_mb),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "command": f"python bench/archive_compare_command.py --renditions {n}",
        }
        print(json.dumps(result, indent=2))
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
