"""Lineage: which rendition each rendition of a photograph was made from (pure, no Django).

Verified matches say that two renditions show one photograph, how they differ and, when the
evidence tells, which came first. From them each rendition gets at most one parent, and the
parents form a forest (no cycles): a rendition without a parent is an original. Byte and
pixel copies share one rendition, so they are never edges here.

Renditions are first put in primacy order (the likeliest original first: the matches'
directions, then capture time, metadata and file age); each then takes its parent among the
renditions before it, by the strength of the match between them. A parent always comes
before its child in that order, so the parents cannot form a cycle.

The original resolution of a rendition is what its content had before anything was added
around it or blown up: a derivative never holds more than its parent held of the content
they share (a border, caption band, page or upscale adds no resolution).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


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
    relation: str = ""


@dataclass(frozen=True, slots=True)
class Parent:
    """The rendition a rendition was made from, and the match that says so."""

    rendition: int
    match_id: int


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rendition's files say about its age, for ordering renditions of one asset."""

    area: int
    capture_ts: float | None = None
    metadata_fields: int = 0
    oldest_mtime_ns: int | None = None


# Relations whose direction the pictures themselves show: a border or a caption band was
# added, a part was cut away, colour or detail was lost, a stamp was laid over. For the rest
# the pixels cannot tell which came first (a downscale and an upscale look alike; a
# re-encode, a rotation, a conversion go both ways), so the files' own dates decide when
# they differ, and the verification's vote only when they do not.
CONTENT_DIRECTED = frozenset({"bordered", "cropped", "grayscale", "watermarked", "blurred"})


def oriented(link: Link, facts: dict[int, Facts]) -> Link:
    """Return the link with its direction taken from the files' dates where the pixels
    cannot tell (see CONTENT_DIRECTED)."""
    if link.confirmed or link.relation in CONTENT_DIRECTED:
        return link
    a, b = facts.get(link.a), facts.get(link.b)
    if a is None or b is None:
        return link
    if a.capture_ts is not None and b.capture_ts is not None and a.capture_ts != b.capture_ts:
        earlier = "a" if a.capture_ts < b.capture_ts else "b"
    elif (
        a.oldest_mtime_ns is not None
        and b.oldest_mtime_ns is not None
        and a.oldest_mtime_ns != b.oldest_mtime_ns
    ):
        earlier = "a" if a.oldest_mtime_ns < b.oldest_mtime_ns else "b"
    else:
        return link
    return replace(link, original=earlier)


def primacy_order(facts: dict[int, Facts], links: list[Link]) -> list[int]:
    """Return the renditions likeliest-original first.

    The evidence of the matches leads: how often a rendition is the copy in a match whose
    direction is known, then how often it is the source. The files' own records break ties
    (earliest capture, richest metadata, oldest file, largest area): an upscale looks like a
    source next to every other copy, yet it carries neither the capture nor the age.
    """
    derived: dict[int, int] = dict.fromkeys(facts, 0)
    sources: dict[int, int] = dict.fromkeys(facts, 0)
    for link in links:
        if link.original and (link.probable or link.confirmed):
            source, copy = (link.a, link.b) if link.original == "a" else (link.b, link.a)
            derived[copy] += 1
            sources[source] += 1

    def key(rid: int) -> tuple:
        f = facts[rid]
        return (
            derived[rid],
            -sources[rid],
            f.capture_ts is None,
            f.capture_ts or 0.0,
            -f.metadata_fields,
            f.oldest_mtime_ns if f.oldest_mtime_ns is not None else 2**63,
            -f.area,
            rid,
        )

    return sorted(facts, key=key)


def choose_parents(facts: dict[int, Facts], links: Iterable[Link]) -> dict[int, Parent | None]:
    """Return each rendition's parent (None: an original), never forming a cycle.

    Renditions are placed in primacy order; each takes as parent a rendition placed before
    it that a match links it to, never against a direction the evidence knows: a person's
    confirmation first, then a probable tier, then the parent nearest the original, then
    the score.
    """
    links = [oriented(link, facts) for link in links if link.a in facts and link.b in facts]
    order = primacy_order(facts, links)
    rank = {rid: i for i, rid in enumerate(order)}
    by_rendition: dict[int, list[Link]] = {rid: [] for rid in facts}
    for link in links:
        by_rendition[link.a].append(link)
        by_rendition[link.b].append(link)
    parents: dict[int, Parent | None] = dict.fromkeys(facts)
    for rid in order:
        options = []
        for link in by_rendition[rid]:
            other = link.b if link.a == rid else link.a
            if rank[other] >= rank[rid]:
                continue
            says_other_is_copy = link.original == ("a" if link.a == rid else "b")
            if says_other_is_copy and not link.confirmed:
                continue
            options.append(
                (
                    (not link.confirmed, not link.probable, rank[other], -link.score,
                     link.match_id),
                    Parent(other, link.match_id),
                )
            )  # fmt: skip
        if options:
            parents[rid] = min(options, key=lambda o: o[0])[1]
    return parents


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
