"""Tests for inventory.pairs.placement: grouping that weak links cannot chain, linear placement."""

from __future__ import annotations

import io

from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from skimage import data as skdata

from inventory.imaging.fingerprints import best_link, compute_fingerprints
from inventory.pairs.placement import Edge, group_renditions, place_renditions
from inventory.pairs.verification import RenditionInfo, Verdict, verify_pair


def groups_of(ids, edges, **kwargs) -> set[frozenset[int]]:
    return {frozenset(m) for m in group_renditions(ids, edges, **kwargs).values()}


def test_strong_links_join_groups():
    edges = [Edge(1, 2, strong=True, score=0.99), Edge(2, 3, strong=True, score=0.98)]
    assert groups_of([1, 2, 3, 4], edges) == {frozenset({1, 2, 3}), frozenset({4})}


def test_a_chain_of_weak_links_stops_after_one_step():
    # 1-2-3-4-5, each only "edited": the chain would make one asset of five pictures.
    edges = [Edge(i, i + 1, strong=False, score=0.9) for i in range(1, 5)]
    found = groups_of(range(1, 6), edges)
    assert all(len(g) <= 2 for g in found), found
    # Each inner link of the chain reaches two groups: the chain joins nothing at all.
    assert found == {frozenset({i}) for i in range(1, 6)}


def test_a_weak_link_never_merges_two_groups():
    edges = [
        Edge(1, 2, strong=True, score=0.99),
        Edge(3, 4, strong=True, score=0.99),
        Edge(2, 3, strong=False, score=0.97),
    ]
    assert groups_of([1, 2, 3, 4], edges) == {frozenset({1, 2}), frozenset({3, 4})}


def test_a_weak_link_attaches_a_lone_rendition_to_a_group_only_when_unambiguous():
    edges = [
        Edge(1, 2, strong=True, score=0.99),
        Edge(3, 1, strong=False, score=0.95),  # 3 also links weakly to 4: it joins neither
        Edge(4, 3, strong=False, score=0.94),
        Edge(5, 2, strong=False, score=0.90),  # 5 links weakly to this group only: it joins
        Edge(6, 1, strong=False, score=0.89),  # so does 6, to the group's core
    ]
    assert groups_of(range(1, 7), edges) == {
        frozenset({1, 2, 5, 6}),
        frozenset({3}),
        frozenset({4}),
    }


def test_people_s_rulings_come_first():
    edges = [Edge(1, 2, strong=True, score=0.99)]
    assert groups_of([1, 2, 3], edges, rejected=[(1, 2)], confirmed=[(2, 3)]) == {
        frozenset({1}),
        frozenset({2, 3}),
    }


# ---- placement on real photographs -----------------------------------------------------


def _versions(name: str) -> list[Image.Image]:
    """Return one photograph in twelve versions, decoded from JPEG as the scanner's thumbnails."""
    picture = Image.fromarray(getattr(skdata, name)()).convert("RGB")
    w, h = picture.size
    made = [
        picture,
        picture.resize((w // 2, h // 2)),
        picture.crop((w // 20, h // 20, w - w // 20, h - h // 20)),
        picture.crop((w // 8, h // 8, w - w // 8, h - h // 8)),
        ImageOps.mirror(picture),
        picture.transpose(Image.Transpose.ROTATE_270),
        ImageEnhance.Brightness(picture).enhance(1.2),
        ImageOps.grayscale(picture).convert("RGB"),
        picture.filter(ImageFilter.GaussianBlur(2)),
        ImageOps.expand(picture, border=w // 10, fill=(255, 255, 255)),
        picture.resize((w * 3 // 4, h * 3 // 4)),
        ImageEnhance.Contrast(picture).enhance(1.3),
    ]
    out = []
    for im in made:
        small = im.copy()
        small.thumbnail((320, 320))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=80)
        with Image.open(buf) as decoded:
            decoded.load()
            out.append(decoded.convert("RGB"))
    return out


def _info(im: Image.Image) -> RenditionInfo:
    return RenditionInfo(im.width, im.height, "JPEG", "RGB", im.width * im.height // 8)


def test_placing_one_photograph_in_many_versions_takes_few_verifications():
    thumbs = dict(enumerate(_versions("astronaut") + _versions("coffee"), start=1))
    fps = {r: compute_fingerprints(t) for r, t in thumbs.items()}
    candidates: dict[int, list[tuple[int, int]]] = {r: [] for r in thumbs}
    hints = {}
    for r in thumbs:
        for p in thumbs:
            if r != p:
                distance, hint = best_link(fps[r], fps[p])
                if distance <= 8:
                    candidates[r].append((p, distance))
                    hints[(r, p)] = hint
    pairs_within = sum(len(v) for v in candidates.values()) // 2
    calls = []

    def verify(pairs) -> dict[tuple[int, int], Verdict]:
        calls.extend(pairs)
        return {
            (r, p): verify_pair(thumbs[r], thumbs[p], a_info=_info(thumbs[r]),
                                b_info=_info(thumbs[p]), hint=hints[(r, p)])
            for r, p in pairs
        }  # fmt: skip

    order = sorted(thumbs, key=lambda r: (-thumbs[r].width * thumbs[r].height, r))
    placement = place_renditions(order, candidates, groups={}, masters={}, verify=verify)
    assert len(calls) == len(placement.verified) == len(set(calls))  # each pair verified once
    # Far fewer verifications than candidate pairs, at most two per rendition on average...
    assert len(calls) <= 2 * len(thumbs) < pairs_within
    # ...and the two photographs come out as two groups of twelve.
    edges = [Edge(r, p, strong=r not in placement.weak, score=1.0)
             for r, p in placement.placed.items()]  # fmt: skip
    found = groups_of(thumbs, edges)
    assert found == {frozenset(range(1, 13)), frozenset(range(13, 25))}


def test_a_rendition_is_not_verified_against_the_other_members_of_a_group_that_took_it():
    thumbs = dict(enumerate(_versions("chelsea")[:6], start=1))
    fps = {r: compute_fingerprints(t) for r, t in thumbs.items()}
    # Renditions 1-5 are an existing asset (7) whose master is 1; 6 is new.
    candidates = {6: [(p, best_link(fps[6], fps[p])[0]) for p in range(1, 6)]}
    calls = []

    def verify(pairs):
        calls.extend(pairs)
        return {
            (r, p): verify_pair(thumbs[r], thumbs[p], a_info=_info(thumbs[r]),
                                b_info=_info(thumbs[p]), hint=best_link(fps[r], fps[p])[1])
            for r, p in pairs
        }  # fmt: skip

    placement = place_renditions(
        [6], candidates, groups={p: 7 for p in range(1, 6)}, masters={7: 1}, verify=verify
    )
    assert len(calls) == 1 and placement.placed[6] in range(1, 6)


def test_a_hub_of_weak_links_joins_nothing():
    # One picture's cropped copy "resembles" three other portraits by their silhouette
    # alone (the shape the evaluation hard negatives showed): a star of weak links.
    edges = [Edge(9, other, strong=False, score=0.9 - other / 100) for other in (1, 2, 3)]
    edges.append(Edge(4, 5, strong=False, score=0.8))  # a lone weak pair still joins
    assert groups_of(range(1, 10), edges) == {
        frozenset({1}), frozenset({2}), frozenset({3}), frozenset({4, 5}), frozenset({6}),
        frozenset({7}), frozenset({8}), frozenset({9}),
    }  # fmt: skip
