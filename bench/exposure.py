"""Time the licence exposure lists over a seeded inventory (default 100,000 copies).

Seeds a temporary SQLite database with bulk_create: five sources in three departments,
assets with one to four copies spread over them, and licences on one asset in three, of
four kinds (a department's, ended, bought twice, not yet started). Then times, for an
organisation-wide user and for one department's user: the three exposure lists
(licence_exposures) and the asset list filtered to `exposed` (a count and its first page).

    python bench/exposure.py [--copies N]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
_SOURCES = (  # name, department
    ("film_archive", "LCSD"),
    ("photo_library", "LCSD"),
    ("newsroom", "NEWS"),
    ("web_team", "NEWS"),
    ("marketing", "COMMS"),
)
_COPIES_PER_ASSET = (1, 1, 2, 1, 3, 1, 1, 2, 4, 1)
_LICENSED_EVERY = 3  # one asset in three holds a licence


def _setup_django(work: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench-exposure.sqlite3'}"
    os.environ["PROVENA_MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(copies_wanted: int) -> dict:
    """Bulk-create the inventory and its licences; return what was made."""
    from django.utils import timezone

    from governance.models import Department, User
    from inventory.models import Asset, Copy, Licence, LicenceAttachment, Rendition, Source

    now = timezone.now()
    today = timezone.localdate()
    departments = {
        code: Department.objects.create(code=code, name=code)
        for code in sorted({d for _, d in _SOURCES})
    }
    sources = [
        Source.objects.create(name=name, root=f"/bench/{name}", department=departments[code])
        for name, code in _SOURCES
    ]
    plan = []
    while sum(plan) < copies_wanted:
        plan.append(_COPIES_PER_ASSET[len(plan) % len(_COPIES_PER_ASSET)])
    plan[-1] -= sum(plan) - copies_wanted
    assets = Asset.objects.bulk_create([Asset() for _ in plan], batch_size=5000)
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
            source=sources[(i + member) % len(sources)],
            path=f"{i // 1000:04d}/img_{i:07d}_{member}.jpg",
            size=1_000_000,
            mtime_ns=1_600_000_000_000_000_000 + i,
            sha256=hashlib.sha256(f"bytes {i}".encode()).hexdigest(),
            rendition=rendition,
            first_seen_at=now,
            last_seen_at=now,
        )
        for i, (rendition, count) in enumerate(zip(renditions, plan, strict=True))
        for member in range(count)
    ]
    Copy.objects.bulk_create(copies, batch_size=5000)

    def days(n: int) -> datetime.date:
        return today + datetime.timedelta(days=n)

    # kind -> (start, end, departments covered); "twice" adds a second, overlapping licence.
    kinds = (
        ("department", days(-100), None, ["LCSD"]),
        ("ended", days(-400), days(-30), ["LCSD", "NEWS", "COMMS"]),
        ("twice", days(-200), days(200), ["LCSD", "NEWS", "COMMS"]),
        ("pending", days(30), None, ["NEWS"]),
    )
    licensed = assets[::_LICENSED_EVERY]
    terms = []
    for n, asset in enumerate(licensed):
        kind, start, end, codes = kinds[n % len(kinds)]
        terms.append((asset, start, end, codes, f"{kind}-{n}"))
        if kind == "twice":
            terms.append((asset, days(-50), None, codes, f"{kind}-{n}-b"))
    licences = Licence.objects.bulk_create(
        [
            Licence(
                licensor="Agency",
                reference=reference,
                start=start,
                end=end,
                cost=Decimal(100),
                currency="HKD",
            )
            for _, start, end, _, reference in terms
        ],
        batch_size=5000,
    )
    covers = Licence.departments.through
    covers.objects.bulk_create(
        [
            covers(licence_id=licence.pk, department_id=departments[code].pk)
            for licence, (_, _, _, codes, _) in zip(licences, terms, strict=True)
            for code in codes
        ],
        batch_size=5000,
    )
    LicenceAttachment.objects.bulk_create(
        [
            LicenceAttachment(licence=licence, asset=asset)
            for licence, (asset, *_) in zip(licences, terms, strict=True)
        ],
        batch_size=5000,
    )
    users = {
        "organisation": User.objects.create(username="bench-org", organisation_wide=True),
        "NEWS": User.objects.create(username="bench-news", department=departments["NEWS"]),
    }
    return {"copies": len(copies), "assets": len(assets), "licences": len(licences), **users}


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="provena-bench-exposure-"))
    try:
        _setup_django(work)
        from inventory.selectors.assets import assets_visible_to
        from inventory.selectors.licences import assets_by_licence_state, licence_exposures

        started = time.perf_counter()
        seeded = _seed(args.copies)
        print(
            f"seeded {seeded['copies']:,} copies of {seeded['assets']:,} assets, "
            f"{seeded['licences']:,} licences in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        for label in ("organisation", "NEWS"):
            user = seeded[label]
            seconds, exposures = _timed(lambda user=user: licence_exposures(user=user))
            print(
                f"{label:>12}: exposure lists in {seconds:.2f} s "
                f"({len(exposures.uncovered):,} copies held outside their licences, "
                f"{len(exposures.expired):,} assets after their licences ended, "
                f"{len(exposures.bought_twice):,} bought twice)"
            )
            exposed = assets_by_licence_state(
                assets=assets_visible_to(user=user), state="exposed", user=user
            ).order_by("pk")
            seconds, count = _timed(exposed.count)
            page_seconds, _ = _timed(lambda exposed=exposed: list(exposed[:40]))
            print(
                f"{label:>12}: assets filtered to exposed: {count:,} counted in {seconds:.2f} s, "
                f"first page in {page_seconds:.2f} s"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
