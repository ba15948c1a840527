"""Time a catalogue CSV import over a seeded inventory (default 130,000 rows).

Seeds a temporary SQLite database with bulk_create: two sources, one asset per copy, then
writes a catalogue CSV with one row per copy (`source:path`, a title, a creator and a
catalogue number; one row in four names its file by SHA-256 instead) and times
catalogue_import() on it, as the import_catalogue command runs it (all rows or none).
A timing, not a test.

    python bench/catalogue_import.py [--rows N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
_SOURCES = ("film_archive", "photo_library")


def _setup_django(work: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench-catalogue.sqlite3'}"
    os.environ["PROVENA_MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(rows: int) -> bytes:
    """Bulk-create one copy (and asset) per row; return the catalogue CSV naming them."""
    import csv
    import io

    from django.utils import timezone

    from governance.models import Department
    from inventory.models import Asset, Copy, Rendition, Source

    now = timezone.now()
    department = Department.objects.create(code="LCSD", name="LCSD")
    sources = [
        Source.objects.create(name=name, root=f"/bench/{name}", department=department)
        for name in _SOURCES
    ]
    assets = Asset.objects.bulk_create([Asset() for _ in range(rows)], batch_size=5000)
    renditions = Rendition.objects.bulk_create(
        [
            Rendition(
                pixel_hash=hashlib.sha256(f"pixels {i}".encode()).hexdigest(),
                asset=asset,
                format="JPEG",
                width=4000,
                height=3000,
                mode="RGB",
            )
            for i, asset in enumerate(assets)
        ],
        batch_size=5000,
    )
    copies = [
        Copy(
            source=sources[i % len(sources)],
            path=f"{i // 1000:04d}/img_{i:07d}.jpg",
            size=4_000_000,
            mtime_ns=0,
            sha256=hashlib.sha256(f"bytes {i}".encode()).hexdigest(),
            rendition=rendition,
            first_seen_at=now,
            last_seen_at=now,
        )
        for i, rendition in enumerate(renditions)
    ]
    Copy.objects.bulk_create(copies, batch_size=5000)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "sha256", "title", "creator", "catalogue_scheme", "catalogue_number"])
    for i, copy in enumerate(copies):
        key = ["", copy.sha256] if i % 4 == 3 else [f"{copy.source.name}:{copy.path}", ""]
        writer.writerow([*key, f"Harbour view {i}", "Unknown photographer", "LCSD", f"{i:07d}"])
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=130_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="provena-bench-catalogue-"))
    try:
        _setup_django(work)
        from inventory.services.catalogue import catalogue_import

        started = time.perf_counter()
        data = _seed(args.rows)
        print(
            f"seeded {args.rows:,} copies and a {len(data) / 1e6:.1f} MB CSV "
            f"in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        report = catalogue_import(data=data, name="bench.csv")
        seconds = time.perf_counter() - started
        if not report.ok:
            problems = report.problems + [r.describe() for r in report.failed_rows[:5]]
            raise SystemExit("import refused: " + "; ".join(problems))
        print(
            f"imported {len(report.rows):,} rows ({report.assets_changed:,} assets changed) "
            f"in {seconds:.1f} s: {seconds / len(report.rows) * 1000:.3f} ms a row"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
