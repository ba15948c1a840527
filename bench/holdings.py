"""Personal-data holdings, measured through the privacy cases: recall and precision per copy.

Builds (and caches) a held set in var/bench/holdings from real pictures, each distinct picture
held twice, in two sources as an archive and a web team hold them:

  - 102 face pictures: the 100 faces of scikit-image's LFW subset (``skimage.data.lfw_subset()``,
    read from the installed package: 25 px crops, scaled to a 165-210 px face on a plain studio
    backdrop, as bench/hard_negatives.py builds its ID-photo portraits) and the two portraits
    of samples/photos (astronaut: Eileen Collins; grace_hopper);
  - 108 non-face pictures: 100 objects cut from real photographs without people (a small
    region on a backdrop of about its own colour: the hard negatives a matcher chains most
    easily) and 8 whole photographs without people from samples/photos.

``archive/`` holds each picture; ``web/`` holds its second copy, made by one of four edits in
turn (re-encoded at quality 60, resized to 70%, cropped 4%, brightened 15%). The whole set is
scanned as a user runs it (``scan_run``: walk, examine, matching, the face pass, privacy
cases), then, through the privacy cases in the database:

  - a copy is a *found holding* when its rendition belongs to the asset (or is the anchor) of
    a privacy case not merged into another;
  - it is a *true holding* when the picture it holds shows a face (truth by construction).

recall = true holdings found / true holdings (204); precision = true holdings found / found.
The export's per-copy ``personal_data`` (DESIGN.md) is counted the same way, as a cross-check,
and the assets holding more than one distinct picture (what makes false holdings) are listed.

    python bench/holdings.py [--model hog|cnn]

Prints a Markdown table and writes bench/results/holdings.json (committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import hard_negatives  # noqa: E402 - bench modules sit beside each other

OUT = REPO / "var" / "bench"
CORPUS = OUT / "holdings"
RESULTS = REPO / "bench" / "results" / "holdings.json"
PHOTOS = REPO / "samples" / "photos"
VERSION = "1"
SEED = 1616
PORTRAIT_PHOTOS = ("astronaut", "grace_hopper")
# Photographs with nobody in them (camera.jpg shows a man in profile and is left out).
NON_FACE_PHOTOS = ("brick", "grass", "gravel", "coins", "coffee", "chelsea", "rocket", "retina")
OBJECT_SOURCES = (*NON_FACE_PHOTOS, "hubble_deep_field", "moon", "page", "immunohistochemistry")
OBJECTS = 100
EDITS = ("jpeg_q60", "resize_70", "crop_4", "brighter")
# The LFW split's parameters, fixed before the first run (a plain studio backdrop, JPEG q90).
_SPLIT = hard_negatives.Split(
    name="holdings",
    sources=OBJECT_SOURCES,
    faces=range(0, 100),
    seed=SEED,
    objects=OBJECTS,
    portraits=100,
    documents=0,
    scene_pairs=0,
    burst_pairs=0,
    subject_side=(0.12, 0.45),
    gradient=15.0,
    quality=90,
)


def build() -> dict[str, dict[str, str]]:
    """Write the held set once (cached by VERSION); return {source: {path: picture}} and kinds."""
    manifest = CORPUS / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == VERSION:
            return data
    shutil.rmtree(CORPUS, ignore_errors=True)
    for folder in ("archive", "web"):
        (CORPUS / folder).mkdir(parents=True)
    from skimage import data as skdata

    rng = np.random.default_rng(SEED)
    made: list[tuple[str, str, Image.Image]] = []  # (picture, kind, image)
    faces = skdata.lfw_subset()
    for index in _SPLIT.faces:
        made.append(
            (f"face-lfw-{index:03d}", "face", hard_negatives._portrait(faces[index], _SPLIT, rng))
        )
    for name in PORTRAIT_PHOTOS:
        with Image.open(PHOTOS / f"{name}.jpg") as im:
            made.append((f"face-{name}", "face", im.convert("RGB")))
    regions = hard_negatives._regions(_SPLIT)
    order = rng.permutation(len(regions))
    for i in range(OBJECTS):
        made.append(
            (f"object-{i:03d}", "non_face", hard_negatives._object(regions[order[i]], _SPLIT, rng))
        )
    for name in NON_FACE_PHOTOS:
        with Image.open(PHOTOS / f"{name}.jpg") as im:
            made.append((f"photo-{name}", "non_face", im.convert("RGB")))
    files: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for n, (picture, kind, image) in enumerate(made):
        kinds[picture] = kind
        image.save(CORPUS / "archive" / f"{picture}.jpg", quality=90)
        files[f"archive/{picture}.jpg"] = picture
        edit = EDITS[n % len(EDITS)]
        with Image.open(CORPUS / "archive" / f"{picture}.jpg") as saved:
            copy = hard_negatives._copy(saved.convert("RGB"), edit)
        copy.save(
            CORPUS / "web" / f"{picture}-{edit}.jpg", quality=60 if edit == "jpeg_q60" else 90
        )
        files[f"web/{picture}-{edit}.jpg"] = picture
    data = {"version": VERSION, "files": files, "kinds": kinds}
    manifest.write_text(json.dumps(data, indent=1, sort_keys=True))
    return data


def _setup_django(work: Path, allowed: Path, model: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench-holdings.sqlite3'}"
    os.environ["PROVENA_MEDIA_ROOT"] = str(work / "media")
    os.environ["PROVENA_ALLOWED_ROOTS"] = str(allowed)
    os.environ["PROVENA_FACE_MODEL"] = model
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("hog", "cnn"), default="hog")
    args = parser.parse_args()
    data = build()
    files, kinds = data["files"], data["kinds"]
    with tempfile.TemporaryDirectory(prefix="provena-bench-holdings-") as tmp:
        _setup_django(Path(tmp), CORPUS.parent, args.model)
        from governance.privacy.models import PrivacyCase
        from governance.privacy.services.cases import privacy_cases_refresh
        from inventory.models import Copy, Rendition, Source
        from inventory.selectors.findings import findings_document
        from inventory.services.faces import faces_run
        from inventory.services.scan import scan_run
        from inventory.services.sources import source_register

        started = time.perf_counter()
        for folder in ("archive", "web"):
            scan_run(source=source_register(root=CORPUS / folder, name=folder), workers=1)
        faces_run(workers=1)  # already run by the scan; a no-op unless something was left
        privacy_cases_refresh()
        seconds = time.perf_counter() - started

        copies = {
            c.pk: (f"{c.source.name}/{c.path}", c.rendition_id, c.rendition.asset_id)
            for c in Copy.objects.filter(state=Copy.State.PRESENT).select_related(
                "source", "rendition"
            )
        }
        cases = PrivacyCase.objects.exclude(status=PrivacyCase.Status.MERGED)
        case_count = cases.count()
        case_assets = {a for a in cases.values_list("asset_id", flat=True) if a is not None}
        case_anchors = set(cases.filter(asset__isnull=True).values_list("anchor_id", flat=True))
        found = {
            path
            for path, rendition, asset in copies.values()
            if asset in case_assets or rendition in case_anchors
        }
        truth = {path for path, picture in files.items() if kinds[picture] == "face"}
        exported = set()
        document = findings_document(sources=Source.objects.all())
        for group in document["groups"]:
            for member in group["members"]:
                if member["personal_data"]:
                    exported.add(f"{member['source']}/{member['path']}")
        # Assets holding more than one distinct picture, and face pictures with no face found.
        pictures_by_asset: dict[int, set[str]] = defaultdict(set)
        for path, _, asset in copies.values():
            if asset is not None:
                pictures_by_asset[asset].add(files[path])
        mixed = {a: sorted(p) for a, p in pictures_by_asset.items() if len(p) > 1}
        with_faces = set(
            Rendition.objects.filter(identifiable_faces__gt=0).values_list("pk", flat=True)
        )
        seen = {files[path] for path, rendition, _ in copies.values() if rendition in with_faces}
        missed = sorted(p for p, k in kinds.items() if k == "face" and p not in seen)
        stray = sorted(p for p, k in kinds.items() if k == "non_face" and p in seen)

    def scores(predicted: set[str]) -> dict[str, object]:
        hits = len(predicted & truth)
        return {
            "found": len(predicted),
            "true_found": hits,
            "recall": _ratio(hits, len(truth)),
            "precision": _ratio(hits, len(predicted)),
            "false_holdings": sorted(predicted - truth),
            "missed_holdings": sorted(truth - predicted),
        }

    result = {
        "command": f"python bench/holdings.py --model {args.model}",
        "corpus_version": VERSION,
        "face_pictures": sum(k == "face" for k in kinds.values()),
        "non_face_pictures": sum(k == "non_face" for k in kinds.values()),
        "copies": len(copies),
        "true_holdings": len(truth),
        "privacy_cases": case_count,
        "through_privacy_cases": scores(found),
        "through_export_personal_data": scores(exported),
        "face_pictures_without_an_identifiable_face": missed,
        "non_face_pictures_with_an_identifiable_face": stray,
        "assets_with_several_pictures": {str(a): p for a, p in sorted(mixed.items())},
        "scan_and_cases_seconds": round(seconds, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    cases_row, export_row = result["through_privacy_cases"], result["through_export_personal_data"]
    print(
        f"Holdings of {result['face_pictures']} face and {result['non_face_pictures']} non-face "
        f"pictures, each held twice ({result['copies']} copies), detector {args.model}"
    )
    print()
    print("| measured through | holdings found | true | recall | precision |")
    print("|---|---:|---:|---:|---:|")
    for label, row in (("privacy cases", cases_row), ("export personal_data", export_row)):
        print(
            f"| {label} | {row['found']} | {row['true_found']} | {row['recall']} "
            f"| {row['precision']} |"
        )
    print()
    print(
        f"face pictures with no identifiable face found: {len(missed)}; non-face pictures "
        f"with one: {len(stray)}; assets holding several pictures: {len(mixed)}"
    )
    print(f"scan, face pass and cases: {seconds:.0f} s; results in {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
