"""Hard negatives for near-duplicate matching: distinct pictures that look alike.

Every picture here is made from real photographs (scikit-image's bundled sample data, see
samples/photos/LICENSES.md; the LFW subset is from Huang et al., "Labeled Faces in the Wild",
University of Massachusetts, distributed with scikit-image for research use) in the shapes an
archive holds by the thousand and a matcher finds hardest:

- objects: a small region of a photograph (10-40% of the side) on a plain background of about
  its own colour, with a soft light gradient (product shots, museum objects);
- portraits: different people's faces, centred on a plain studio backdrop (ID photos);
- documents: a small photograph pasted on off-white paper with printed lines (a form, a card);
- scene pairs: two crops of one scene that overlap but neither holds the other (two cameras),
  and burst-like near frames (the frame moved by 5-9%, the light changed a little).

Each distinct picture also has one edited copy (re-encode, resize, crop, brightness), so pair
precision has true pairs to count. Two splits are built from disjoint source photographs, LFW
faces and parameters: "calibration" (may be looked at while setting verification rules) and
"evaluation" (fixed in code before any threshold was changed for it, never tuned on).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO / "samples" / "photos"
VERSION = "1"


@dataclass(frozen=True)
class Split:
    """The sources and parameters of one half of the hard-negative corpus."""

    name: str
    sources: tuple[str, ...]  # photographs the objects and scenes are cut from
    faces: range  # indices into skimage's lfw_subset (0-99 are faces)
    seed: int
    objects: int
    portraits: int
    documents: int
    scene_pairs: int  # each gives two pictures
    burst_pairs: int  # each gives two pictures
    subject_side: tuple[float, float]  # object side as a share of the canvas's short side
    gradient: float  # strongest light fall-off across the background (levels)
    quality: int  # JPEG quality of the pictures
    label: str = ""  # how the split may be read, printed with its figures


SPLITS = {
    "calibration": Split(
        name="calibration",
        sources=(
            "astronaut",
            "chelsea",
            "coffee",
            "rocket",
            "retina",
            "coins",
            "camera",
            "hubble_deep_field",
            "immunohistochemistry",
            "moon",
            "page",
            "clock_motion",
        ),
        faces=range(0, 50),
        seed=14,
        objects=96,
        portraits=50,
        documents=30,
        scene_pairs=6,
        burst_pairs=6,
        subject_side=(0.10, 0.40),
        gradient=12.0,
        quality=90,
        label="CALIBRATION (looked at)",
    ),  # fmt: skip
    "evaluation": Split(
        name="evaluation",
        sources=(
            "grace_hopper",
            "motorcycle_right",
            "microaneurysms",
            "brick",
            "grass",
            "gravel",
            "text",
            "cell",
            "motorcycle_left",
        ),
        faces=range(50, 100),
        seed=1414,
        objects=96,
        portraits=50,
        documents=30,
        scene_pairs=6,
        burst_pairs=6,
        subject_side=(0.12, 0.45),
        gradient=18.0,
        quality=85,
        label="EVALUATION (looked at: its false pairs were read before the rules changed)",
    ),  # fmt: skip
    # Fixed after the evaluation split had been looked at and before the verification rules
    # changed for what it showed. Its pictures are new (another seed, subject sizes, backdrops
    # and quality), but its photographs and LFW people also appear in the other splits. It
    # was run once under the old rules and its two false pairs were read while the new rule
    # was chosen: it has been looked at.
    "evaluation-2": Split(
        name="evaluation-2",
        sources=(
            "astronaut",
            "coffee",
            "rocket",
            "grace_hopper",
            "motorcycle_left",
            "cell",
            "page",
            "brick",
            "chelsea",
            "camera",
        ),
        faces=range(20, 80),
        seed=2612,
        objects=90,
        portraits=60,
        documents=26,
        scene_pairs=6,
        burst_pairs=6,
        subject_side=(0.15, 0.5),
        gradient=15.0,
        quality=88,
        label="EVALUATION-2 (fixed before the rules changed; its false pairs were read)",
    ),  # fmt: skip
    # Fixed after the rules above changed (commit of 2026-12-03) and run once; never tuned on
    # or read before its figures were reported. New pictures, as evaluation-2's are.
    "evaluation-3": Split(
        name="evaluation-3",
        sources=(
            "coins",
            "moon",
            "text",
            "hubble_deep_field",
            "retina",
            "immunohistochemistry",
            "motorcycle_right",
            "gravel",
            "grass",
            "clock_motion",
        ),
        faces=range(1, 100, 2),
        seed=31207,
        objects=96,
        portraits=50,
        documents=30,
        scene_pairs=6,
        burst_pairs=6,
        subject_side=(0.1, 0.35),
        gradient=10.0,
        quality=92,
        label="EVALUATION-3 (run once blind; its two false pairs were then read: looked at)",
    ),  # fmt: skip
    # Fixed after the margin rule (the second change, made after reading evaluation-3's two
    # false pairs) and run once; never tuned on or read before its figures were reported.
    "evaluation-4": Split(
        name="evaluation-4",
        sources=(
            "chelsea",
            "coffee",
            "rocket",
            "camera",
            "page",
            "cell",
            "motorcycle_right",
            "microaneurysms",
            "brick",
            "astronaut",
        ),
        faces=range(0, 100, 2),
        seed=90417,
        objects=96,
        portraits=50,
        documents=30,
        scene_pairs=6,
        burst_pairs=6,
        subject_side=(0.12, 0.42),
        gradient=14.0,
        quality=87,
        label="EVALUATION-4 (blind: fixed after the margin rule, run once, never tuned on)",
    ),  # fmt: skip
}


@dataclass
class Picture:
    """One hard-negative file: the distinct picture it shows and what it is."""

    path: Path
    group: str  # the distinct picture (an edited copy shares its original's group)
    kind: str  # objects, portraits, documents, scenes, bursts
    edit: str  # "original" or the copy's edit


def _source(name: str) -> np.ndarray:
    """Return a source photograph as an RGB uint8 array."""
    from skimage import data as skdata

    if (PHOTOS / f"{name}.jpg").exists():
        with Image.open(PHOTOS / f"{name}.jpg") as im:
            return np.asarray(im.convert("RGB"))
    if name.startswith("motorcycle_"):
        left, right, _ = skdata.stereo_motorcycle()
        array = left if name == "motorcycle_left" else right
    elif name == "clock_motion":
        with Image.open(Path(skdata.__file__).parent / "clock_motion.png") as im:
            array = np.asarray(im.convert("L"))
    else:
        array = getattr(skdata, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=2)
    return np.ascontiguousarray(array[..., :3]).astype(np.uint8)


def _regions(split: Split) -> list[np.ndarray]:
    """Return non-overlapping regions of the split's photographs, largest grid that fits."""
    regions = []
    for name in split.sources:
        photo = _source(name)
        h, w = photo.shape[:2]
        side = max(48, min(h, w) // 4)
        for y in range(0, h - side + 1, side):
            for x in range(0, w - side + 1, side):
                region = photo[y : y + side, x : x + side]
                if region.std() >= 12:  # a region with something in it
                    regions.append(region)
    return regions


def _background(size: tuple[int, int], colour: np.ndarray, gradient: float, rng) -> np.ndarray:
    """Return a plain backdrop of one colour with a soft light fall-off and sensor noise."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) * rng.uniform(0.3, 1.0) * gradient
    noise = rng.normal(0, 1.2, (h, w, 1))
    return np.clip(colour[None, None, :] + ramp[..., None] + noise, 0, 255)


def _edge_colour(patch: np.ndarray, rng) -> np.ndarray:
    """Return about the colour of a patch's own edge, so the subject sits on its like."""
    edge = np.concatenate([patch[0], patch[-1], patch[:, 0], patch[:, -1]]).astype(np.float32)
    return np.clip(edge.mean(axis=0) + rng.normal(0, 8, 3), 10, 245)


def _object(region: np.ndarray, split: Split, rng) -> Image.Image:
    size = (480, 360) if rng.random() < 0.5 else (360, 480)
    short = min(size)
    side = max(24, round(short * rng.uniform(*split.subject_side)))
    patch = Image.fromarray(region).resize((side, side), Image.Resampling.LANCZOS)
    canvas = _background(size, _edge_colour(region, rng), split.gradient, rng)
    x = round((size[0] - side) * rng.uniform(0.3, 0.7))
    y = round((size[1] - side) * rng.uniform(0.3, 0.7))
    # Soft edges, as a cut-out or a subject in its own light.
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((2, 2, side - 3, side - 3), fill=255)
    if rng.random() < 0.5:
        mask = Image.new("L", (side, side), 255)
    mask = mask.filter(ImageFilter.GaussianBlur(2))
    out = Image.fromarray(canvas.astype(np.uint8))
    out.paste(patch, (x, y), mask)
    return out


def _portrait(face: np.ndarray, split: Split, rng) -> Image.Image:
    size = (300, 400)
    tone = rng.uniform(150, 230)
    tint = np.array([tone, tone * rng.uniform(0.95, 1.02), tone * rng.uniform(0.9, 1.05)])
    canvas = _background(size, tint, split.gradient * 0.5, rng)
    side = round(size[0] * rng.uniform(0.55, 0.7))
    gray = Image.fromarray((face * 255).astype(np.uint8)).resize(
        (side, side), Image.Resampling.BICUBIC
    )
    colour = np.asarray(gray, np.float32)[..., None] * np.array([1.0, 0.9, 0.8])
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((side // 10, 0, side - side // 10, side - 1), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(3))
    out = Image.fromarray(canvas.astype(np.uint8))
    out.paste(
        Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8)),
        ((size[0] - side) // 2, round(size[1] * 0.2)),
        mask,
    )
    return out


def _document(region: np.ndarray, split: Split, rng) -> Image.Image:
    size = (420, 594)
    paper = np.array([242, 240, 232]) + rng.normal(0, 3, 3)
    canvas = Image.fromarray(_background(size, paper, split.gradient * 0.4, rng).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    side = round(size[0] * rng.uniform(0.22, 0.32))
    x, y = round(size[0] * rng.uniform(0.06, 0.12)), round(size[1] * rng.uniform(0.08, 0.16))
    canvas.paste(Image.fromarray(region).resize((side, side), Image.Resampling.LANCZOS), (x, y))
    draw.rectangle((x - 2, y - 2, x + side + 1, y + side + 1), outline=(90, 90, 90))
    # Printed lines beside and below the photograph: each document's own.
    for _ in range(int(rng.integers(3, 7))):
        ly = round(size[1] * rng.uniform(0.45, 0.9))
        lx = round(size[0] * rng.uniform(0.08, 0.2))
        length = round(size[0] * rng.uniform(0.3, 0.7))
        draw.line((lx, ly, lx + length, ly), fill=(70, 70, 75), width=2)
    return canvas


def _scene_pair(photo: np.ndarray, burst: bool, rng) -> tuple[Image.Image, Image.Image]:
    """Return two frames of one scene: overlapping crops (neither holds the other)."""
    h, w = photo.shape[:2]
    image = Image.fromarray(photo)
    if burst:
        fw, fh = round(w * 0.82), round(h * 0.82)
        x0, y0 = round(w * rng.uniform(0.0, 0.05)), round(h * rng.uniform(0.0, 0.05))
        shift = rng.uniform(0.05, 0.09)
        dx, dy = round(w * shift), round(h * rng.uniform(-0.03, 0.03))
        first = image.crop((x0, y0, x0 + fw, y0 + fh))
        y1 = min(max(0, y0 + dy), h - fh)
        second = image.crop((x0 + dx, y1, x0 + dx + fw, y1 + fh))
        second = ImageEnhance.Brightness(second).enhance(rng.uniform(0.94, 1.06))
        return first, second
    fw, fh = round(w * rng.uniform(0.55, 0.65)), round(h * rng.uniform(0.6, 0.75))
    first = image.crop((0, 0, fw, fh))
    second = image.crop((w - fw, h - fh, w, h))
    return first, second


_COPY_EDITS = ("jpeg_q60", "resize_70", "crop_4", "brighter")


def _copy(im: Image.Image, edit: str) -> Image.Image:
    if edit == "resize_70":
        return im.resize((round(im.width * 0.7), round(im.height * 0.7)), Image.Resampling.LANCZOS)
    if edit == "crop_4":
        dx, dy = round(im.width * 0.04), round(im.height * 0.04)
        return im.crop((dx, dy, im.width - dx, im.height - dy))
    if edit == "brighter":
        return ImageEnhance.Brightness(im).enhance(1.15)
    return im  # jpeg_q60: the same pixels, saved at a lower quality


def build(split_name: str, root: Path) -> list[Picture]:
    """Write one split (once; cached by VERSION) under root and return its pictures."""
    split = SPLITS[split_name]
    folder = root / f"hard-negatives-{split.name}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("version") == VERSION:
            return [Picture(folder / p, g, k, e) for p, g, k, e in data["pictures"]]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(split.seed)
    regions = _regions(split)
    order = rng.permutation(len(regions))
    if len(order) < split.objects + split.documents:
        raise ValueError(f"{split.name}: only {len(regions)} regions in its photographs")
    from skimage import data as skdata

    faces = skdata.lfw_subset()
    made: list[tuple[str, Image.Image]] = []
    for i in range(split.objects):
        made.append(("objects", _object(regions[order[i]], split, rng)))
    for index in list(split.faces)[: split.portraits]:
        made.append(("portraits", _portrait(faces[index], split, rng)))
    for i in range(split.documents):
        made.append(("documents", _document(regions[order[split.objects + i]], split, rng)))
    scenes = [_source(name) for name in split.sources if min(_source(name).shape[:2]) >= 300]
    for i in range(split.scene_pairs):
        made += [("scenes", im) for im in _scene_pair(scenes[i % len(scenes)], False, rng)]
    for i in range(split.burst_pairs):
        photo = scenes[(i + split.scene_pairs) % len(scenes)]
        made += [("bursts", im) for im in _scene_pair(photo, True, rng)]
    pictures: list[Picture] = []
    for n, (kind, im) in enumerate(made):
        group = f"{kind}-{n:03d}"
        path = folder / f"{group}.jpg"
        im.convert("RGB").save(path, quality=split.quality)
        pictures.append(Picture(path, group, kind, "original"))
        edit = _COPY_EDITS[n % len(_COPY_EDITS)]
        copy_path = folder / f"{group}-{edit}.jpg"
        with Image.open(path) as saved:
            _copy(saved.convert("RGB"), edit).save(
                copy_path, quality=60 if edit == "jpeg_q60" else split.quality
            )
        pictures.append(Picture(copy_path, group, kind, edit))
    manifest.write_text(
        json.dumps(
            {
                "version": VERSION,
                "pictures": [
                    [str(p.path.relative_to(folder)), p.group, p.kind, p.edit] for p in pictures
                ],
            },
            indent=1,
        )
    )
    return pictures
