"""Lineage: which rendition each rendition of a photograph was made from (pure, no Django).

Verified matches say that two renditions show one photograph, how they differ and, when the
evidence tells, which came first. From them each rendition gets at most one parent, and the
parents form a forest (no cycles): a rendition without a parent is an original. Byte and
pixel copies share one rendition, so they are never edges here.

A parent is chosen by the strength of the match that links them: a person's confirmation
first, then a probable tier, then a known direction, then a parent that no evidence names
as a derivative, then the verification score. Matches whose direction is unknown come last
and attach the rendition that has fewer descendants under the other.

The original resolution of a rendition is what its content had before anything was added
around it or blown up: a derivative never holds more than its parent held of the content
they share (a border, caption band, page or upscale adds no resolution).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    """A verified match between two renditions of one asset, as lineage reads it."""

    match_id: int
    a: int
    b: int
    original: str  # "a", "b" or "" (the evidence does not tell)
    confirmed: bool  # a person said: the same photograph
    probable: bool  # tier probable (else possible)
    score: float
    share_a: float | None = None  # of a's frame inside the overlap (verification evidence)
    share_b: float | None = None


@dataclass(frozen=True, slots=True)
class Parent:
    """The rendition a rendition was made from, and the match that says so."""

    rendition: int
    match_id: int


def choose_parents(renditions: Iterable[int], links: Iterable[Link]) -> dict[int, Parent | None]:
    """Return each rendition's parent (None: an original), never forming a cycle."""
    ids = sorted(set(renditions))
    parents: dict[int, Parent | None] = dict.fromkeys(ids)
    links = [link for link in links if link.a in parents and link.b in parents]
    # Renditions some directed, probable evidence names as the copy.
    derived = {
        (link.b if link.original == "a" else link.a)
        for link in links
        if link.original and (link.probable or link.confirmed)
    }

    def creates_cycle(child: int, parent: int) -> bool:
        node: int | None = parent
        while node is not None:
            if node == child:
                return True
            found = parents[node]
            node = found.rendition if found else None
        return False

    directed = []
    for link in links:
        if link.original:
            source, copy = (link.a, link.b) if link.original == "a" else (link.b, link.a)
            directed.append((link, source, copy))
    directed.sort(
        key=lambda t: (
            not t[0].confirmed,
            not t[0].probable,
            t[1] in derived,
            -t[0].score,
            t[0].match_id,
        )
    )
    for link, source, copy in directed:
        if parents[copy] is None and not creates_cycle(copy, source):
            parents[copy] = Parent(source, link.match_id)

    descendants = _descendant_counts(parents)
    undirected = sorted(
        (link for link in links if not link.original),
        key=lambda link: (not link.confirmed, not link.probable, -link.score, link.match_id),
    )
    for link in undirected:
        a_free, b_free = parents[link.a] is None, parents[link.b] is None
        if not (a_free or b_free):
            continue
        if a_free and b_free:
            # The one with more descendants (the hub its copies were made from) stays on top.
            rank_a = (link.a in derived, -descendants.get(link.a, 0), link.a)
            rank_b = (link.b in derived, -descendants.get(link.b, 0), link.b)
            source, copy = (link.a, link.b) if rank_a <= rank_b else (link.b, link.a)
        else:
            source, copy = (link.b, link.a) if a_free else (link.a, link.b)
        if not creates_cycle(copy, source):
            parents[copy] = Parent(source, link.match_id)
            descendants = _descendant_counts(parents)
    return parents


def _descendant_counts(parents: dict[int, Parent | None]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for child in parents:
        node = parents[child]
        seen = 0
        while node is not None and seen <= len(parents):
            counts[node.rendition] = counts.get(node.rendition, 0) + 1
            node = parents[node.rendition]
            seen += 1
    return counts


def original_areas(
    areas: dict[int, int], parents: dict[int, Parent | None], links: dict[int, Link]
) -> dict[int, int]:
    """Return each rendition's original resolution in pixels.

    An original's is its own area. A derivative's is the content it shows at its own
    resolution, but never more than its parent held of that content: the shares come from
    the verification (how much of each frame the overlap covers).
    """
    result: dict[int, int] = {}

    def resolve(rid: int, depth: int = 0) -> int:
        if rid in result:
            return result[rid]
        parent = parents.get(rid)
        own = areas[rid]
        if parent is None or depth > len(parents):
            result[rid] = own
            return own
        held = resolve(parent.rendition, depth + 1)
        link = links.get(parent.match_id)
        share_own, share_parent = 1.0, 1.0
        if link is not None:
            mine, theirs = (
                (link.share_a, link.share_b) if link.a == rid else (link.share_b, link.share_a)
            )
            share_own = mine if mine is not None else 1.0
            share_parent = theirs if theirs is not None else 1.0
        result[rid] = round(min(share_own * own, share_parent * held))
        return result[rid]

    for rid in areas:
        resolve(rid)
    return result


def present_derivatives(parents: dict[int, int | None], present: set[int]) -> set[int]:
    """Return the renditions with a present ancestor: the master rule never proposes them."""
    derived = set()
    for rid in parents:
        node = parents.get(rid)
        steps = 0
        while node is not None and steps <= len(parents):
            if node in present:
                derived.add(rid)
                break
            node = parents.get(node)
            steps += 1
    return derived
