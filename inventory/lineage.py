"""Group renditions into photographs from verified links, so that weak links cannot chain.

Pure: no Django. A *strong* link is a verification of the whole picture (or a person's
confirmation); a *weak* one is probable only by a local-change rule or says no more than
"edited" (inventory.verify.is_weak). Strong links join groups. A weak link only attaches a
rendition that no strong link placed to a group's core member, never to another weakly
attached one and never between two groups: a chain of weak links ends after one step, so it
cannot carry a group from one photograph to the next.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Edge:
    """A verified link between two renditions."""

    a: int
    b: int
    strong: bool
    score: float = 0.0


class UnionFind:
    """Union-find whose components refuse to join renditions a person ruled apart."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.size: dict[int, int] = {}
        # root -> renditions its members were ruled different from
        self.apart: dict[int, list[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            self.parent[x] = self.parent.setdefault(parent, parent)
            x, parent = parent, self.parent[parent]
        return x

    def members(self, x: int) -> int:
        """Return how many renditions x's component holds."""
        return self.size.get(self.find(x), 1)

    def keep_apart(self, a: int, b: int) -> None:
        self.apart.setdefault(self.find(a), []).append(b)
        self.apart.setdefault(self.find(b), []).append(a)

    def conflicts(self, a: int, b: int) -> bool:
        """Return whether joining a's and b's components would join a pair ruled apart."""
        ra, rb = self.find(a), self.find(b)
        return any(self.find(x) == rb for x in self.apart.get(ra, ())) or any(
            self.find(x) == ra for x in self.apart.get(rb, ())
        )

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        low, high = min(ra, rb), max(ra, rb)
        self.parent[high] = low
        self.size[low] = self.size.get(low, 1) + self.size.pop(high, 1)
        moved = self.apart.pop(high, None)
        if moved:
            self.apart.setdefault(low, []).extend(moved)


def group_renditions(
    rendition_ids: Iterable[int],
    edges: Iterable[Edge],
    *,
    confirmed: Iterable[tuple[int, int]] = (),
    rejected: Iterable[tuple[int, int]] = (),
) -> dict[int, list[int]]:
    """Return the renditions by group (keyed by a member).

    People's confirmations join first and always; machine links join next, strong ones
    before weak ones and each kind strongest first, unless they would join renditions a
    person ruled different.
    """
    uf = UnionFind()
    for a, b in rejected:
        uf.keep_apart(a, b)
    for a, b in confirmed:
        uf.union(a, b)
    ranked = sorted(edges, key=lambda e: -e.score)
    for e in ranked:
        if e.strong and not uf.conflicts(e.a, e.b):
            uf.union(e.a, e.b)
    weak = [e for e in ranked if not e.strong]
    leaves: set[int] = set()  # renditions attached by a weak link: they attach nothing more
    for e in weak:
        if uf.find(e.a) == uf.find(e.b) or uf.conflicts(e.a, e.b):
            continue
        free_a, free_b = uf.members(e.a) == 1, uf.members(e.b) == 1
        if free_b and e.a not in leaves:
            leaf = e.b
        elif free_a and e.b not in leaves:
            leaf = e.a
        else:
            continue  # both already in groups, or the other end is itself only attached
        uf.union(e.a, e.b)
        leaves.add(leaf)
    groups: dict[int, list[int]] = defaultdict(list)
    for rid in rendition_ids:
        groups[uf.find(rid)].append(rid)
    return groups
