"""make bench: build and sign a report over a seeded inventory of 100,000 copies, timed.

Seeds a temporary SQLite database (DATABASE_URL) with bulk_create: sources in three
departments, finished scans, renditions and assets, copies of which about a third sit in
duplicate groups, and scan errors; then times report_build(kind="audit", sign=True) with a
trial certificate and checks the result verifies. Prints the figure; target: under 60 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET_SECONDS = 60.0
_SOURCES = (  # name, department, risk tier, authoritative
    ("film_archive", "LCSD", "archive", True),
    ("photo_library", "LCSD", "internal", False),
    ("newsroom", "NEWS", "external", False),
    ("web_team", "NEWS", "external", False),
    ("marketing", "COMMS", "internal", False),
)
# Copies per asset, cycled: about 40% of copies end up in duplicate groups.
_COPIES_PER_ASSET = (1, 1, 1, 1, 2, 1, 3, 1, 1, 2, 1, 4)


def _setup_django(work: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench-report.sqlite3'}"
    os.environ["PROVENA_MEDIA_ROOT"] = str(work / "media")
    os.environ["PROVENA_BACKGROUND_REPORTS"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _thumbnail(media: Path) -> str:
    """Write one small JPEG all seeded renditions share as their thumbnail."""
    from PIL import Image

    name = "be/bench.jpg"
    path = media / "thumbnails" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (320, 214), (90, 120, 160)).save(path, quality=80)
    return name


def _seed(copies_wanted: int, errors_wanted: int, media: Path) -> dict:
    """Bulk-create the inventory; return what was made."""
    from governance.models import Department
    from inventory.models import Asset, Copy, Rendition, Scan, ScanError, Source

    rng = random.Random(7)
    now = datetime.now(UTC)
    departments = {
        code: Department.objects.create(code=code, name=code)
        for code in sorted({d for _, d, _, _ in _SOURCES})
    }
    sources = [
        Source.objects.create(
            name=name,
            root=f"/bench/{name}",
            department=departments[dept],
            risk_tier=tier,
            authoritative=authoritative,
        )
        for name, dept, tier, authoritative in _SOURCES
    ]
    scans = {
        s.pk: Scan.objects.create(
            source=s, status="finished", software_version="bench", finished_at=now
        )
        for s in sources
    }
    thumbnail = _thumbnail(media)
    plan = []
    while sum(plan) < copies_wanted:
        plan.append(_COPIES_PER_ASSET[len(plan) % len(_COPIES_PER_ASSET)])
    plan[-1] -= sum(plan) - copies_wanted
    assets = Asset.objects.bulk_create([Asset() for _ in plan], batch_size=5000)
    renditions = Rendition.objects.bulk_create(
        [
            Rendition(
                pixel_hash=hashlib.sha256(f"pixels {index}".encode()).hexdigest(),
                asset=asset,
                format="JPEG",
                width=4000,
                height=3000,
                mode="RGB",
                metadata={},
                thumbnail=thumbnail,
            )
            for index, asset in enumerate(assets)
        ],
        batch_size=5000,
    )
    copies = []
    for index, (rendition, count) in enumerate(zip(renditions, plan, strict=True)):
        sha = hashlib.sha256(f"bytes {index}".encode()).hexdigest()
        size = rng.randint(400_000, 9_000_000)
        for member in range(count):
            source = sources[(index + member) % len(sources)]
            scan = scans[source.pk]
            copies.append(
                Copy(
                    source=source,
                    path=f"{index // 1000:04d}/img_{index:07d}_{member}.jpg",
                    size=size,
                    mtime_ns=1_600_000_000_000_000_000 + index,
                    sha256=sha,
                    rendition=rendition,
                    first_seen_at=now - timedelta(days=index % 700),
                    last_seen_at=now,
                    first_seen_scan=scan,
                    last_seen_scan=scan,
                )
            )
    Copy.objects.bulk_create(copies, batch_size=5000)
    ScanError.objects.bulk_create(
        [
            ScanError(
                scan=scans[sources[i % len(sources)].pk],
                path=f"incoming/broken_{i:05d}.jpg",
                error="truncated JPEG data",
            )
            for i in range(errors_wanted)
        ],
        batch_size=5000,
    )
    return {"copies": len(copies), "assets": len(assets), "errors": errors_wanted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=100_000)
    parser.add_argument("--errors", type=int, default=2_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="provena-bench-report-"))
    _setup_django(work)
    from django.test.utils import override_settings

    from reports.services import report_build, report_path
    from reports.signing import signing_certificate_create
    from reports.verification import report_file_verify

    started = time.perf_counter()
    seeded = _seed(args.copies, args.errors, work / "media")
    print(
        f"seeded {seeded['copies']:,} copies, {seeded['errors']:,} errors "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    certificate = work / "bench.p12"
    certificate.write_bytes(
        signing_certificate_create(
            common_name="Provena bench signer", organisation="Bench", password="bench"
        )
    )
    with override_settings(PROVENA_SIGNING_CERT=str(certificate), PROVENA_SIGNING_PASSWORD="bench"):
        started = time.perf_counter()
        report = report_build(kind="audit", sign=True)
        seconds = time.perf_counter() - started
        verification = report_file_verify(data=report_path(report).read_bytes())
    figures = report.figures
    print(
        f"report {report.number}: {report.pages} pages, {report.size / 1e6:.1f} MB, "
        f"{figures['files']:,} files, {figures['duplicate_groups']:,} groups, "
        f"signature {'verifies' if verification.ok else 'DOES NOT VERIFY'}"
    )
    print("stages: " + ", ".join(f"{k} {v} s" for k, v in report.timings.items()))
    verdict = "ok" if seconds < TARGET_SECONDS else "OVER TARGET"
    print(
        f"build + sign over {figures['files']:,} copies: {seconds:.1f} s "
        f"(target under {TARGET_SECONDS:.0f} s) {verdict}"
    )
    out = REPO / "var" / "bench" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "copies": figures["files"],
                "groups": figures["duplicate_groups"],
                "pages": report.pages,
                "bytes": report.size,
                "seconds": round(seconds, 2),
                "timings": report.timings,
                "verifies": verification.ok,
            },
            indent=2,
        )
    )
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if not verification.ok or seconds >= TARGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
