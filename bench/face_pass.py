"""The face pass per photograph and per copy: once per photograph against once per rendition.

Builds (and caches) a set in var/bench/face_pass: real photographs from samples/photos (two
portraits, two without people) enlarged to 12 MP (4000 x 3000, on a canvas of the photograph
itself stretched) and each held in VERSIONS versions: the master, a byte copy, resized to
2000 and 1024 px and to a 160 px web thumbnail, mirrored and turned a quarter. Scans it
with the face pass off, then times, on the same inventory:

  - per rendition (before): ``examine_faces`` on one copy of every rendition, as the face
    pass ran until issue 16;
  - per photograph (now): ``faces_run``: the master of each photograph decoded and searched,
    the faces carried to its other renditions through their registrations.

and prints the cost per photograph and per copy, and how many renditions were decoded.

    python bench/face_pass.py [--photographs N]     (N portraits/non-portraits, default 4)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

OUT = REPO / "var" / "bench"
CORPUS = OUT / "face_pass"
PHOTOS = REPO / "samples" / "photos"
NAMES = ("astronaut", "grace_hopper", "coffee", "rocket", "chelsea", "camera")
FRAME = (4000, 3000)
VERSIONS = 7


def _frame(name: str) -> Image.Image:
    """Return the photograph at 12 MP: centred on a stretched, blurred copy of itself."""
    with Image.open(PHOTOS / f"{name}.jpg") as im:
        photo = im.convert("RGB")
    background = photo.resize(FRAME, Image.Resampling.BILINEAR)
    side = FRAME[1]
    scaled = photo.resize((side * photo.width // photo.height, side), Image.Resampling.LANCZOS)
    background.paste(scaled, ((FRAME[0] - scaled.width) // 2, 0))
    return background


def build(count: int) -> Path:
    """Write the corpus (once per size) and return its root."""
    root = CORPUS / f"n{count}"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name in NAMES[:count]:
        master = _frame(name)
        master.save(root / f"{name}.jpg", quality=90)
        shutil.copy(root / f"{name}.jpg", root / f"{name}_copy.jpg")
        for side in (2000, 1024, 160):
            small = master.copy()
            small.thumbnail((side, side), Image.Resampling.LANCZOS)
            small.save(root / f"{name}_{side}.jpg", quality=85)
        master.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(root / f"{name}_mirrored.jpg")
        master.transpose(Image.Transpose.ROTATE_90).save(root / f"{name}_turned.jpg")
    (root / ".done").touch()
    return root


def _setup_django(work: Path, allowed: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench-face-pass.sqlite3'}"
    os.environ["PROVENA_MEDIA_ROOT"] = str(work / "media")
    os.environ["PROVENA_ALLOWED_ROOTS"] = str(allowed)
    os.environ["PROVENA_FACES"] = "0"  # scanned without faces; the pass is timed alone
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photographs", type=int, default=4, choices=range(1, len(NAMES) + 1))
    args = parser.parse_args()
    root = build(args.photographs)
    with tempfile.TemporaryDirectory(prefix="provena-bench-faces-") as tmp:
        _setup_django(Path(tmp), root.parent)
        from django.db import connection

        from inventory.imaging.faces import examine_faces
        from inventory.models import Copy, Rendition
        from inventory.services.faces import face_policy, faces_run
        from inventory.services.scan import scan_run
        from inventory.services.sources import source_register

        scan = scan_run(source=source_register(root=root, name="bench"), workers=1)
        copies = Copy.objects.filter(state=Copy.State.PRESENT).count()
        renditions = Rendition.objects.count()
        photographs = Rendition.objects.values("asset_id").distinct().count()
        policy = face_policy()

        # Before: every rendition decoded and searched (one copy of each).
        paths = {}
        for copy in Copy.objects.select_related("source").order_by("pk"):
            paths.setdefault(copy.rendition_id, Path(copy.source.root) / copy.path)
        started = time.process_time()
        for path in paths.values():
            examine_faces(path, policy)
        per_rendition = time.process_time() - started

        # Now: once per photograph.
        started = time.process_time()
        result = faces_run(workers=1)
        per_photograph = time.process_time() - started
        connection.close()

    print(f"Face pass, {args.photographs} photographs at 12 MP, {VERSIONS} versions each")
    print(f"({copies} copies, {renditions} renditions, {photographs} assets; scan {scan.pk})")
    print()
    print("| face pass | renditions decoded | CPU s | per photograph ms | per copy ms |")
    print("|---|---:|---:|---:|---:|")
    for label, decoded, seconds in (
        ("per rendition (before)", len(paths), per_rendition),
        ("per photograph (now)", result.detected, per_photograph),
    ):
        print(
            f"| {label} | {decoded} | {seconds:.2f} | {1000 * seconds / photographs:.0f} "
            f"| {1000 * seconds / copies:.0f} |"
        )
    print()
    print(f"carried: {result.carried} renditions; identifiable: {result.identifiable}")


if __name__ == "__main__":
    main()
