"""Face-detection accuracy on real photographs: the default FacePolicy against ground truth.

Builds (and caches) a labelled set in var/bench/faces, deterministically (seeded), from:

  - two real portraits in samples/photos (astronaut: Eileen Collins; grace_hopper), each
    scaled so its face is 40, 60, 80, 120, 200 or 400 px across and pasted at a seeded
    position into a real non-face photograph used as background: in 1600x1200 frames
    (plain, mirrored, and re-encoded as JPEG quality 30) and in 12 MP (4000x3000) frames;
    and the whole portrait scaled alone;
  - scikit-image's LFW subset (``skimage.data.lfw_subset()``, read from the installed
    package, never copied into the repository: its docstring states no licence): the 100
    faces, 25x25 crops upscaled 4x, are the "low-resolution faces" group, reported apart;
    the 100 non-face crops are non-face images;
  - non-face photographs (textures, objects, landscapes, the cat, a drawing, printed text)
    at their own size, in 1600x1200 frames and in 12 MP frames.

Ground truth: the face boxes of the two portraits were set by hand (brow to chin, cheek to
cheek: the convention of dlib's boxes, which the policy's size threshold is stated in), and
a face is where it was pasted. A face counts found when a detected box overlaps its truth
box with IoU >= 0.3. Every file goes through ``inventory.imaging.faces.examine_faces`` with the
default ``FacePolicy()``, as the face pass runs it.

    python bench/faces.py     (also the last part of make bench-accuracy)

Prints the tables (Markdown) and writes var/bench/face_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

with warnings.catch_warnings():  # face_recognition_models warns about pkg_resources
    warnings.simplefilter("ignore", UserWarning)
    from inventory.imaging.faces import FacePolicy, examine_faces

OUT = REPO / "var" / "bench"
CORPUS = OUT / "faces"
RESULTS = OUT / "face_accuracy.json"
PHOTOS = REPO / "samples" / "photos"
CORPUS_VERSION = "1"
SEED = 5
IOU_FOUND = 0.3
IDENTIFIABLE_TRUTH_PX = 80  # the "identifiable person": a face at least 80 px across

# (left, top, width, height) of the face in each portrait, set by hand.
PORTRAITS: dict[str, tuple[int, int, int, int]] = {
    "astronaut": (177, 80, 86, 86),
    "grace_hopper": (180, 145, 182, 182),
}
FACE_SIZES = (40, 60, 80, 120, 200, 400)
WEB_FRAME = (1600, 1200)
CAMERA_FRAME = (4000, 3000)
# Real photographs with no person in them. camera.jpg is left out: it shows a man in
# profile, a person the frontal detector is not meant to find, so neither truth nor negative.
SAMPLE_NON_FACES = (
    "brick",
    "grass",
    "gravel",
    "coins",
    "coffee",
    "chelsea",
    "rocket",
    "retina",
    "hubble_deep_field",
)
SKIMAGE_NON_FACES = (
    "horse",
    "moon",
    "page",
    "text",
    "immunohistochemistry",
    "cell",
    "motorcycle_left",
)
BACKGROUNDS = SAMPLE_NON_FACES + ("moon", "motorcycle_left", "immunohistochemistry")
CAMERA_NON_FACES = ("brick", "coffee", "chelsea", "rocket")
LFW_SCALE = 4
LFW_CANVAS = 160

GROUPS = {
    "web_pasted": "pasted, 1600x1200 frame",
    "web_mirrored": "pasted, mirrored",
    "web_jpeg_q30": "pasted, JPEG q30",
    "alone": "portrait alone, scaled",
    "camera_pasted": "pasted, 12 MP frame",
    "lfw_faces": "LFW faces, 25 px upscaled x4",
    "non_face_own_size": "non-face photo, own size",
    "non_face_web": "non-face photo, 1600x1200",
    "non_face_camera": "non-face photo, 12 MP",
    "lfw_non_faces": "LFW non-face crops",
}
FACE_GROUPS = ("web_pasted", "web_mirrored", "web_jpeg_q30", "alone", "camera_pasted")
NON_FACE_GROUPS = ("non_face_own_size", "non_face_web", "non_face_camera")


@dataclass
class Item:
    """One labelled file: its group and the face boxes pasted into it (left, top, w, h)."""

    path: str
    group: str
    truth: list[list[float]] = field(default_factory=list)
    face_px: int | None = None


# ---- the labelled set ----------------------------------------------------------------------


def _skimage_photo(name: str) -> Image.Image:
    from skimage import data as skdata

    if name.startswith("motorcycle_"):
        left, right, _ = skdata.stereo_motorcycle()
        return Image.fromarray(left if name == "motorcycle_left" else right)
    return Image.fromarray(getattr(skdata, name)())


def _photo(name: str) -> Image.Image:
    path = PHOTOS / f"{name}.jpg"
    if path.exists():
        with Image.open(path) as im:
            return im.convert("RGB")
    return _skimage_photo(name).convert("RGB")


def _save(im: Image.Image, path: Path, quality: int = 90) -> None:
    partial = path.with_name(path.name + ".partial")
    im.save(partial, format="JPEG", quality=quality)
    partial.replace(path)


def _face_patch(name: str, face_px: int) -> tuple[Image.Image, Image.Image, list[float]]:
    """Return head and shoulders scaled so the face is face_px across, a soft mask, the box."""
    portrait = _photo(name)
    left, top, width, height = PORTRAITS[name]
    region = (
        max(0, round(left - 0.6 * width)),
        max(0, round(top - 0.6 * height)),
        min(portrait.width, round(left + 1.6 * width)),
        min(portrait.height, round(top + 1.6 * height)),
    )
    scale = face_px / width
    size = (round((region[2] - region[0]) * scale), round((region[3] - region[1]) * scale))
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    patch = portrait.crop(region).resize(size, resample)
    # A feathered edge, so the detector does not see a hard rectangle around every face.
    feather = max(2, round(0.06 * min(size)))
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(
        (feather, feather, size[0] - feather, size[1] - feather), fill=255
    )
    mask = mask.filter(ImageFilter.GaussianBlur(feather / 2))
    box = [(left - region[0]) * scale, (top - region[1]) * scale, width * scale, height * scale]
    return patch, mask, box


def _frame(background: str, size: tuple[int, int]) -> Image.Image:
    return ImageOps.fit(_photo(background), size, Image.Resampling.BICUBIC)


def _pasted(
    rng: np.random.Generator, portrait: str, face_px: int, size: tuple[int, int]
) -> tuple[Image.Image, list[float]]:
    """Return a frame of a seeded background with the portrait pasted at a seeded place."""
    background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    frame = _frame(background, size)
    patch, mask, box = _face_patch(portrait, face_px)
    x = int(rng.integers(0, size[0] - patch.width + 1))
    y = int(rng.integers(0, size[1] - patch.height + 1))
    frame.paste(patch, (x, y), mask)
    return frame, [x + box[0], y + box[1], box[2], box[3]]


def _lfw() -> np.ndarray:
    from skimage import data as skdata

    return (skdata.lfw_subset() * 255).round().astype(np.uint8)


def _lfw_image(crop: np.ndarray) -> tuple[Image.Image, list[float]]:
    """Upscale a 25x25 crop and set it on a plain canvas of its mean grey, for context."""
    side = crop.shape[0] * LFW_SCALE
    big = Image.fromarray(crop).resize((side, side), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (LFW_CANVAS, LFW_CANVAS), int(crop.mean()))
    offset = (LFW_CANVAS - side) // 2
    canvas.paste(big, (offset, offset))
    return canvas, [offset, offset, side, side]


def build_set() -> list[Item]:
    """Write the labelled set (once; cached by CORPUS_VERSION) and return its items."""
    manifest = CORPUS / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == CORPUS_VERSION:
            return [Item(**row) for row in data["items"]]
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir(parents=True)
    items: list[Item] = []

    def add(im: Image.Image, name: str, group: str, truth=None, face_px=None, quality=90):
        folder = CORPUS / group
        folder.mkdir(exist_ok=True)
        _save(im, folder / name, quality)
        items.append(Item(f"{group}/{name}", group, truth or [], face_px))

    for p_index, portrait in enumerate(PORTRAITS):
        for s_index, face_px in enumerate(FACE_SIZES):
            rng = np.random.default_rng([SEED, p_index, s_index])
            stem = f"{portrait}_{face_px:03d}"
            frame, box = _pasted(rng, portrait, face_px, WEB_FRAME)
            add(frame, f"{stem}.jpg", "web_pasted", [box], face_px)
            frame, box = _pasted(rng, portrait, face_px, WEB_FRAME)
            mirrored = [WEB_FRAME[0] - box[0] - box[2], box[1], box[2], box[3]]
            add(ImageOps.mirror(frame), f"{stem}.jpg", "web_mirrored", [mirrored], face_px)
            frame, box = _pasted(rng, portrait, face_px, WEB_FRAME)
            add(frame, f"{stem}.jpg", "web_jpeg_q30", [box], face_px, quality=30)
            frame, box = _pasted(rng, portrait, face_px, CAMERA_FRAME)
            add(frame, f"{stem}.jpg", "camera_pasted", [box], face_px)
            # The whole portrait, scaled: a picture of one person and nothing else.
            whole = _photo(portrait)
            left, top, width, height = PORTRAITS[portrait]
            scale = face_px / width
            size = (round(whole.width * scale), round(whole.height * scale))
            resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
            box = [left * scale, top * scale, width * scale, height * scale]
            add(whole.resize(size, resample), f"{stem}.jpg", "alone", [box], face_px)
    lfw = _lfw()
    for index in range(100):
        im, box = _lfw_image(lfw[index])
        add(im, f"face_{index:03d}.jpg", "lfw_faces", [box], 25 * LFW_SCALE)
        im, _ = _lfw_image(lfw[100 + index])
        add(im, f"non_face_{index:03d}.jpg", "lfw_non_faces")
    for name in SAMPLE_NON_FACES + SKIMAGE_NON_FACES:
        add(_photo(name), f"{name}.jpg", "non_face_own_size")
    for name in BACKGROUNDS:
        add(_frame(name, WEB_FRAME), f"{name}.jpg", "non_face_web")
    for name in CAMERA_NON_FACES:
        add(_frame(name, CAMERA_FRAME), f"{name}.jpg", "non_face_camera")
    manifest.write_text(
        json.dumps({"version": CORPUS_VERSION, "items": [asdict(i) for i in items]}, indent=1)
    )
    return items


# ---- scoring -------------------------------------------------------------------------------


def iou(a: list[float], b: list[float]) -> float:
    """Return the intersection over union of two (left, top, width, height) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@dataclass
class Outcome:
    """What the detector made of one item."""

    item: Item
    boxes: list[tuple[list[float], float, bool]]  # box, score, identifiable under the policy
    found: list[bool]  # per truth box
    true_boxes: list[bool]  # per detected box: matched a truth box
    ms: float  # wall clock
    cpu_ms: float  # this process's CPU time: steadier than the wall clock on a busy machine

    @property
    def flagged(self) -> bool:
        return any(identifiable for _, _, identifiable in self.boxes)

    @property
    def person(self) -> bool:
        return any(box[2] >= IDENTIFIABLE_TRUTH_PX for box in self.item.truth)


def _match(truth: list[list[float]], boxes: list[list[float]]) -> tuple[list[bool], list[bool]]:
    """Pair truth and detected boxes greedily by IoU (at least IOU_FOUND), each used once."""
    pairs = sorted(
        ((iou(t, b), ti, bi) for ti, t in enumerate(truth) for bi, b in enumerate(boxes)),
        reverse=True,
    )
    found, matched = [False] * len(truth), [False] * len(boxes)
    for overlap, ti, bi in pairs:
        if overlap >= IOU_FOUND and not found[ti] and not matched[bi]:
            found[ti] = matched[bi] = True
    return found, matched


def run(items: list[Item], policy: FacePolicy) -> list[Outcome]:
    """Run examine_faces over every item, timed one by one (one process)."""
    examine_faces(CORPUS / items[0].path, policy)  # load the detector outside the timings
    outcomes = []
    for item in items:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = examine_faces(CORPUS / item.path, policy)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        if result.problem:
            raise SystemExit(f"{item.path}: {result.problem}")
        boxes = [
            (
                [f.left, f.top, f.width, f.height],
                f.score,
                policy.is_identifiable(size=f.size, score=f.score),
            )
            for f in result.faces
        ]
        found, matched = _match(item.truth, [b for b, _, _ in boxes])
        outcomes.append(Outcome(item, boxes, found, matched, ms, cpu_ms))
    return outcomes


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def _identifiable(outcomes: list[Outcome]) -> dict:
    tp = sum(o.person and o.flagged for o in outcomes)
    fp = sum(o.flagged and not o.person for o in outcomes)
    fn = sum(o.person and not o.flagged for o in outcomes)
    return {
        "images": len(outcomes),
        "with_person": sum(o.person for o in outcomes),
        "flagged": tp + fp,
        "recall": _ratio(tp, tp + fn),
        "precision": _ratio(tp, tp + fp),
        "missed": sorted(o.item.path for o in outcomes if o.person and not o.flagged),
        "false_flags": sorted(o.item.path for o in outcomes if o.flagged and not o.person),
    }


def _detections(outcomes: list[Outcome], identifiable_only: bool = False) -> dict:
    kept = [
        matched
        for o in outcomes
        for (_, _, identifiable), matched in zip(o.boxes, o.true_boxes, strict=True)
        if identifiable or not identifiable_only
    ]
    return {"boxes": len(kept), "true": sum(kept), "precision": _ratio(sum(kept), len(kept))}


def _ms(outcomes: list[Outcome]) -> dict:
    wall = sorted(o.ms for o in outcomes)
    cpu = sorted(o.cpu_ms for o in outcomes)
    return {
        "cpu_mean": round(statistics.fmean(cpu), 1),
        "cpu_p95": round(cpu[min(len(cpu) - 1, int(0.95 * len(cpu)))], 1),
        "wall_mean": round(statistics.fmean(wall), 1),
        "wall_max": round(wall[-1], 1),
    }


def evaluate(outcomes: list[Outcome], policy: FacePolicy) -> dict:
    """Return recall by face size and group, precision, identifiable-person figures, ms."""
    by_group: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_group.setdefault(o.item.group, []).append(o)
    recall: dict[str, dict[str, float | None]] = {}
    for group in FACE_GROUPS:
        row: dict[str, float | None] = {}
        for size in FACE_SIZES:
            found = [f for o in by_group[group] if o.item.face_px == size for f in o.found]
            row[str(size)] = _ratio(sum(found), len(found))
        recall[group] = row
    recall["all pasted and alone"] = {
        str(size): _ratio(
            sum(
                f
                for g in FACE_GROUPS
                for o in by_group[g]
                if o.item.face_px == size
                for f in o.found
            ),
            sum(len(o.found) for g in FACE_GROUPS for o in by_group[g] if o.item.face_px == size),
        )
        for size in FACE_SIZES
    }
    main = [o for g in FACE_GROUPS + NON_FACE_GROUPS for o in by_group[g]]
    lfw = by_group["lfw_faces"] + by_group["lfw_non_faces"]
    lfw_found = [f for o in by_group["lfw_faces"] for f in o.found]
    non_faces = {}
    for group in (*NON_FACE_GROUPS, "lfw_non_faces"):
        rows = by_group[group]
        non_faces[group] = {
            "images": len(rows),
            "detections": sum(len(o.boxes) for o in rows),
            "detections_score_ok": sum(
                1 for o in rows for _, score, _ in o.boxes if score >= policy.min_score
            ),
            "images_flagged_identifiable": sum(o.flagged for o in rows),
            "flagged": sorted(o.item.path for o in rows if o.flagged),
        }
    return {
        "policy": asdict(policy),
        "iou_found": IOU_FOUND,
        "identifiable_truth_px": IDENTIFIABLE_TRUTH_PX,
        "images": {group: len(by_group[group]) for group in GROUPS},
        "recall_by_size": recall,
        "lfw_faces": {
            "faces": len(lfw_found),
            "recall": _ratio(sum(lfw_found), len(lfw_found)),
            "identifiable_recall": _identifiable(by_group["lfw_faces"])["recall"],
        },
        "detection_precision": {
            "all_boxes": _detections(main),
            "identifiable_boxes": _detections(main, identifiable_only=True),
            "lfw_all_boxes": _detections(lfw),
        },
        "identifiable_per_image": {
            "main": _identifiable(main),
            "lfw": _identifiable(lfw),
        },
        "non_faces": non_faces,
        "ms_per_image": {group: _ms(by_group[group]) for group in GROUPS},
        "ms_per_image_all": _ms(outcomes),
        "misses": sorted(
            f"{o.item.path} ({o.item.face_px} px): "
            + (", ".join(f"{b[2]}px s={s:.2f}" for b, s, _ in o.boxes) or "no box")
            for g in FACE_GROUPS
            for o in by_group[g]
            if not all(o.found)
        ),
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(r: dict) -> str:
    """Return the results as Markdown tables."""
    policy = r["policy"]
    lines = [
        f"Face detection, policy ({policy['model']}, decode side "
        f"{policy['decode_side']}, upsample below {policy['upsample_below']}; identifiable: "
        f">= {policy['min_face_px']} px and score >= {policy['min_score']}); a face is found "
        f"when a box overlaps it with IoU >= {r['iou_found']}",
        "",
        "| detection recall by face size (px across) | images | "
        + " | ".join(str(s) for s in FACE_SIZES)
        + " |",
        "|---|---|" + "---|" * len(FACE_SIZES),
    ]
    for group, row in r["recall_by_size"].items():
        if group in r["images"]:
            label, count = GROUPS[group], r["images"][group]
        else:
            label, count = f"**{group}**", sum(r["images"][g] for g in FACE_GROUPS)
        cells = " | ".join(_fmt(row[str(s)]) for s in FACE_SIZES)
        lines.append(f"| {label} | {count} | {cells} |")
    d = r["detection_precision"]
    main = r["identifiable_per_image"]["main"]
    lfw = r["lfw_faces"]

    def share(row: dict) -> str:
        return f"{_fmt(row['precision'])} ({row['true']} of {row['boxes']})"

    lines += [
        "",
        "| measure | value |",
        "|---|---|",
        f"| detection precision, every box (portrait and non-face images) | "
        f"{share(d['all_boxes'])} |",
        f"| detection precision, boxes the policy calls identifiable | "
        f"{share(d['identifiable_boxes'])} |",
        f"| identifiable person per image, recall (truth: a face >= "
        f"{r['identifiable_truth_px']} px pasted) | {_fmt(main['recall'])} "
        f"({main['with_person']} of {main['images']} images show one) |",
        f"| identifiable person per image, precision | {_fmt(main['precision'])} "
        f"({main['flagged']} images flagged) |",
        f"| {GROUPS['lfw_faces']}: detection recall (reported apart) | "
        f"{_fmt(lfw['recall'])} of {lfw['faces']} |",
        f"| {GROUPS['lfw_faces']}: flagged identifiable | {_fmt(lfw['identifiable_recall'])} |",
        f"| LFW images: detection precision | {share(d['lfw_all_boxes'])} |",
        "",
        "| non-face images | images | boxes | boxes with score >= min | flagged identifiable |",
        "|---|---|---|---|---|",
    ]
    for group, row in r["non_faces"].items():
        lines.append(
            f"| {GROUPS[group]} | {row['images']} | {row['detections']} | "
            f"{row['detections_score_ok']} | {row['images_flagged_identifiable']} |"
        )
    lines += [
        "",
        "| ms per image (examine_faces, one process) | CPU mean | CPU p95 | wall mean | wall max |",
        "|---|---|---|---|---|",
    ]
    for group, row in (*r["ms_per_image"].items(), ("all", r["ms_per_image_all"])):
        lines.append(
            f"| {GROUPS.get(group, group)} | {row['cpu_mean']} | {row['cpu_p95']} | "
            f"{row['wall_mean']} | {row['wall_max']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Build the set, run the default policy over it, print and write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    product = FacePolicy()
    parser.add_argument(
        "--model",
        choices=("hog", "cnn"),
        default=product.model,
        help="dlib detector to measure (default: the product's)",
    )
    parser.add_argument("--decode-side", type=int, default=product.decode_side)
    parser.add_argument("--upsample-below", type=int, default=product.upsample_below)
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        help="measure every k-th image only, for slow detectors (0: all)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    started = time.perf_counter()
    items = build_set()
    if args.limit > 1:
        items = items[:: args.limit]
    policy = FacePolicy(
        model=args.model, decode_side=args.decode_side, upsample_below=args.upsample_below
    )
    default = policy == product and args.limit <= 1
    named = f"face_accuracy-{policy.key.replace('/', '_')}.json"
    results_file = RESULTS if default else OUT / named
    print(f"face set: {len(items)} images in var/bench/faces", flush=True)
    results = evaluate(run(items, policy), policy)
    print()
    print(markdown(results))
    print()
    for line in results["misses"]:
        print(f"missed: {line}")
    main_set = results["identifiable_per_image"]["main"]
    print(f"identifiable person missed: {main_set['missed']}")
    print(f"identifiable person flagged wrongly: {main_set['false_flags']}")
    for group, row in results["non_faces"].items():
        if row["flagged"]:
            print(f"non-face flagged identifiable ({group}): {row['flagged']}")
    OUT.mkdir(parents=True, exist_ok=True)
    results["sampled_every"] = max(args.limit, 1)
    results_file.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {results_file.relative_to(REPO)} in {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
