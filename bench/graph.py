"""make bench-graph: is the asset graph right? Masters, relations, certain copies, reclaimable.

Builds a corpus from the real photographs in samples/photos with the copies archives make
(inventory.sample_edits: byte copies, EXIF-only edits, re-encodes, format conversions,
resizes, an upscale, crops, colour edits, grayscale, blur, watermark, border, rotation,
mirror), scans it with `manage.py scan` in a temporary SQLite database, and prints:

- groups whose master is the original file, of all photographs;
- member relations that name the edit made, stated against the right parent;
- byte and pixel copies that are tier `certain`;
- reclaimable bytes against the bytes of the redundant byte and pixel copies on disk;
- the reclaimable figure as the scan summary, dashboard, findings export and audit report
  each show it (they must agree).

Every figure is measured here, now. Photographs: samples/photos and seven more of
scikit-image's (--samples-only: the first set); --photos N keeps the first N.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "var" / "bench" / "graph"


def _setup_django(db: Path, allowed: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["PROVENA_ALLOWED_ROOTS"] = str(allowed)
    os.environ["PROVENA_MEDIA_ROOT"] = str(db.parent / "media")
    os.environ["PROVENA_FACES"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure(root: Path, files: list) -> dict:
    """Scan root and compare what Provena says with how the corpus was made."""
    from django.core.management import call_command

    from inventory.models import Copy, Scan, Source
    from inventory.selectors.findings import findings_document
    from inventory.selectors.sources import figures_by_source
    from reports.selectors.figures import report_data
    from reports.selectors.scope import ReportScope

    started = time.perf_counter()
    call_command("scan", str(root), "--source", "corpus", "--workers", "1", stdout=io.StringIO())
    scan_seconds = time.perf_counter() - started
    sources = Source.objects.all()
    document = findings_document(sources=sources)
    by_path = {}
    for group in document["groups"]:
        for member in group["members"]:
            by_path[member["path"]] = (group, member)
    copies = {c.path: c for c in Copy.objects.select_related("rendition")}
    originals = {f.photo: f.path for f in files if f.edit == "original"}
    # Files that decode to the same pixels are one picture (a byte copy, an EXIF edit, and
    # also a PNG and a TIFF written from one JPEG): the original's files keep the original,
    # any other picture's the oldest file, then the first path (the documented keep rule).
    by_picture: dict[int, list] = {}
    for f in files:
        by_picture.setdefault(copies[f.path].rendition_id, []).append(f)
    kept = {}
    for rendition_id, held in by_picture.items():
        first = min(held, key=lambda f: (f.edit != "original", copies[f.path].mtime_ns, f.path))
        kept[rendition_id] = first.path

    photos = sorted({f.photo for f in files})
    right_master = 0
    wrong_masters = []
    one_group = 0
    for photo in photos:
        group = by_path.get(originals[photo], (None, None))[0]
        if group is None:
            wrong_masters.append((photo, "no group"))
            continue
        if group["master"]["path"] == originals[photo]:
            right_master += 1
        else:
            wrong_masters.append((photo, group["master"]["path"]))
        if all(by_path.get(f.path, (None,))[0] is group for f in files if f.photo == photo):
            one_group += 1

    relations_right = 0
    members = 0
    wrong_relations: Counter = Counter()
    certain_copies = 0
    copies_total = 0
    redundant_bytes = 0
    for f in files:
        if f.edit == "original":
            continue
        members += 1
        copy = copies[f.path]
        keeper = kept[copy.rendition_id]
        same_rendition = keeper != f.path
        expected, parent = f.relation, originals[f.photo]
        if same_rendition:
            expected = "exact_copy" if copy.sha256 == copies[keeper].sha256 else "same_pixels"
            parent = keeper
            copies_total += 1
            redundant_bytes += copy.size
        group, member = by_path.get(f.path, (None, None))
        if member is None:
            wrong_relations[(f.edit, "not grouped")] += 1
            continue
        of = member.get("of", {}).get("path")
        if member["relation"] == expected and of == parent:
            relations_right += 1
        else:
            wrong_relations[(f.edit, f"{member['relation']} of {of}")] += 1
        if same_rendition and member["tier"] == "certain":
            certain_copies += 1

    scan = Scan.objects.filter(status=Scan.Status.FINISHED).first()
    figures = {
        "scan summary": scan.reclaimable_bytes,
        "dashboard": sum(f.reclaimable_bytes for f in figures_by_source(sources=sources)),
        "findings export": document["reclaimable_bytes"],
        "export groups (sum)": sum(g["reclaimable_bytes"] for g in document["groups"]),
        "audit report": report_data(sources=sources, scope=ReportScope()).figures[
            "reclaimable_bytes"
        ],
    }
    return {
        "photographs": len(photos),
        "files": len(files),
        "scan_seconds": round(scan_seconds, 1),
        "masters_original": right_master,
        "photographs_in_one_group": one_group,
        "wrong_masters": wrong_masters,
        "members": members,
        "relations_right": relations_right,
        "relations_share": round(relations_right / members, 4) if members else None,
        "wrong_relations": {f"{k[0]}: {k[1]}": n for k, n in sorted(wrong_relations.items())},
        "byte_pixel_copies": copies_total,
        "byte_pixel_copies_certain": certain_copies,
        "redundant_bytes_on_disk": redundant_bytes,
        "reclaimable": figures,
        "reclaimable_agree": len(set(figures.values())) == 1,
        "reclaimable_equals_redundant": set(figures.values()) == {redundant_bytes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=0, help="use the first N photographs")
    parser.add_argument(
        "--samples-only", action="store_true", help="only the photographs of samples/photos"
    )
    args = parser.parse_args()
    from inventory.sample_edits import PHOTOS, SKIMAGE_PHOTOS, build_photo_corpus

    photos = PHOTOS if args.samples_only else PHOTOS + SKIMAGE_PHOTOS
    photos = photos[: args.photos] if args.photos else photos
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as work:
        work_dir = Path(work)
        root = work_dir / "corpus"
        files = build_photo_corpus(root, photos=photos)
        _setup_django(work_dir / "graph.sqlite3", work_dir)
        results = measure(root, files)
        shutil.rmtree(root)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    r = results
    print(f"corpus: {r['photographs']} photographs, {r['files']} files; scan {r['scan_seconds']} s")
    print(f"master is the original:        {r['masters_original']}/{r['photographs']}")
    print(f"photograph in one group:       {r['photographs_in_one_group']}/{r['photographs']}")
    print(
        f"relation names the edit, of the parent: {r['relations_right']}/{r['members']}"
        f" ({r['relations_share']:.1%})"
    )
    print(
        f"byte/pixel copies certain:     {r['byte_pixel_copies_certain']}/{r['byte_pixel_copies']}"
    )
    print(f"redundant byte/pixel copies on disk: {r['redundant_bytes_on_disk']} bytes")
    for name, value in r["reclaimable"].items():
        print(f"  reclaimable, {name + ':':22} {value} bytes")
    print(f"all figures agree: {r['reclaimable_agree']}; equal the redundant bytes: "
          f"{r['reclaimable_equals_redundant']}")  # fmt: skip
    if r["wrong_masters"]:
        print("wrong masters:", r["wrong_masters"])
    if r["wrong_relations"]:
        print("relations not right:")
        for what, n in r["wrong_relations"].items():
            print(f"  {n:3} {what}")


if __name__ == "__main__":
    main()
