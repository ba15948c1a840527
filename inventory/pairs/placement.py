"""Group renditions into photographs from verified links, so that weak links cannot chain.

Pure: no Django. A *strong* link is a verification of the whole picture (or a person's
confirmation); a *weak* one is probable only by a local-change rule or says no more than
"edited" (inventory.pairs.verification.is_weak). Strong links join groups. A weak link only
attaches a rendition that no strong link placed to a group's core member, never to another
weakly attached one and never between two groups, and only when all of the rendition's weak
links lead into that one group (and, when the core is alone too, all of the core's): a chain
of weak links ends after one step and a hub of them joins nothing, so they cannot carry a
group from one photograph to the next.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from inventory.pairs.verification import Verdict, is_weak


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
    # A rendition whose weak links reach more than one group is ambiguous: it attaches to
    # none, and a lone one (a silhouette that resembles many portraits) attaches none to it.
    reach: dict[int, set[int]] = defaultdict(set)
    for e in weak:
        reach[e.a].add(uf.find(e.b))
        reach[e.b].add(uf.find(e.a))
    grouped = {x for e in weak for x in (e.a, e.b) if uf.members(x) > 1}  # by strong links
    for e in weak:
        if uf.find(e.a) == uf.find(e.b) or uf.conflicts(e.a, e.b):
            continue
        free_a, free_b = uf.members(e.a) == 1, uf.members(e.b) == 1
        if free_b and e.a not in leaves:
            leaf, core = e.b, e.a
        elif free_a and e.b not in leaves:
            leaf, core = e.a, e.b
        else:
            continue  # both already in groups, or the other end is itself only attached
        if len(reach[leaf]) > 1 or (core not in grouped and len(reach[core]) > 1):
            continue
        uf.union(e.a, e.b)
        leaves.add(leaf)
    groups: dict[int, list[int]] = defaultdict(list)
    for rid in rendition_ids:
        groups[uf.find(rid)].append(rid)
    return groups


# ---- placing new renditions --------------------------------------------------------------

Verify = Callable[[list[tuple[int, int]]], dict[tuple[int, int], "Verdict | None"]]


@dataclass(slots=True)
class Placement:
    """What placing new renditions verified and where it put them."""

    verified: list[tuple[int, int, Verdict | None]] = field(default_factory=list)
    placed: dict[int, int] = field(default_factory=dict)  # new rendition -> the one it joined
    weak: set[int] = field(default_factory=set)  # placed by a weak link only


def place_renditions(
    order: list[int],
    candidates: dict[int, list[tuple[int, int]]],
    *,
    groups: dict[int, int],
    masters: dict[int, int],
    verify: Verify,
) -> Placement:
    """Place each new rendition, in order, into the group of a rendition it is verified with.

    candidates: for each new rendition, its (partner, hash distance) pairs; groups: the
    group (asset) of every rendition placed before this run; masters: a group's master
    rendition, where known. A new rendition is verified only against renditions placed
    before it (earlier in order, or before the run), one candidate group at a time, closest
    group first: against the group's closest candidate member and, unless that placed it by a
    strong link, the master (or the next closest member). It stops at the first group that
    takes it and skips every other candidate of a group it was tried against, so the work
    per rendition does not grow with the copies a photograph already has.

    verify(pairs) returns a verdict (None when unverifiable) for each (new, partner) pair.
    """
    outcome = Placement()
    uf = UnionFind()
    # An existing group's node in the union-find: below every rendition id.
    group_node: dict[int, int] = {}
    for rid, group in groups.items():
        node = group_node.setdefault(group, -1 - group)
        uf.union(node, rid)
    # A group's master, or for a group formed in this run its first member.
    first_member = {uf.find(group_node[g]): m for g, m in masters.items() if g in group_node}
    position = {rid: i for i, rid in enumerate(order)}
    leaves: set[int] = set()

    def earlier(r: int, p: int) -> bool:
        return p not in position or position[p] < position[r]

    ranked = {
        r: sorted((d, p) for p, d in candidates.get(r, ()) if p != r and earlier(r, p))
        for r in order
    }
    # Each rendition's first verification depends on the order only: run them all at once.
    cache = verify([(r, ranked[r][0][1]) for r in order if ranked[r]])

    def verdict_of(r: int, p: int) -> Verdict | None:
        if (r, p) not in cache:
            cache.update(verify([(r, p)]))
        verdict = cache[(r, p)]
        outcome.verified.append((r, p, verdict))
        return verdict

    for r in order:
        # No union happens while r is tried, so its partners' groups stay as they are.
        by_group: dict[int, list[int]] = defaultdict(list)
        for _, p in ranked[r]:
            by_group[uf.find(p)].append(p)
        for root, members in by_group.items():  # closest group first (dicts keep order)
            p = members[0]
            second = first_member.get(root)
            if second is None or second == p or second not in members:
                second = members[1] if len(members) > 1 else None
            weak_with = None
            strong_with = None
            tried = set()
            for q in (p, second):
                if q is None:
                    continue
                tried.add(q)
                verdict = verdict_of(r, q)
                if verdict is None or verdict.tier != "probable":
                    continue
                if not is_weak(verdict.relation, verdict.evidence):
                    strong_with = q
                    break
                if q not in leaves and weak_with is None:
                    weak_with = q
            master = first_member.get(root)
            if strong_with is not None and master in members and master not in tried:
                # Placed beside a sibling copy: verify against the group's master too, so the
                # lineage can state the relation against the original (at most two
                # verifications for this rendition).
                verdict_of(r, master)
            partner = strong_with if strong_with is not None else weak_with
            if partner is None:
                continue
            outcome.placed[r] = partner
            if strong_with is None:
                outcome.weak.add(r)
                leaves.add(r)
            anchor = first_member.get(root, partner)
            uf.union(r, partner)
            first_member[uf.find(r)] = anchor
            break
    return outcome
