"""Read the groups of copies that show one photograph, with each member's relation and master."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from inventory.lineage import present_derivatives
from inventory.master_rule import Candidate, master_key
from inventory.models import Asset, Copy, Match, Rendition, Source, Supersession
from inventory.pairs.index import hex_distance
from inventory.pairs.placement import Edge
from inventory.pairs.verification import is_weak
from inventory.selectors.reclaimable import (
    HeldCopy,
    kept_copies,
    retired_rendition_ids,
)


def _joining_matches() -> QuerySet[Match]:
    return Match.objects.exclude(status=Match.Status.REJECTED).exclude(
        tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED
    )


def joining_edges() -> list[tuple[int, int]]:
    """Return the rendition pairs that belong with one photograph (see Match.joins_asset)."""
    return list(_joining_matches().values_list("rendition_a_id", "rendition_b_id"))


def regroup_edges() -> tuple[list[tuple[int, int]], list[Edge], list[tuple[int, int]]]:
    """Return the rendition pairs people confirmed, the machine's joining links (strongest
    first, each marked strong or weak: inventory.pairs.placement) and the pairs people
    rejected."""
    rows = Match.objects.exclude(
        tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED
    ).values_list(
        "rendition_a_id", "rendition_b_id", "status", "score", "relation",
        "evidence__agreement", "evidence__blocks",
    )  # fmt: skip
    confirmed, machine, rejected = [], [], []
    for a, b, status, score, relation, agreement, blocks in rows.order_by("-score", "pk").iterator(
        chunk_size=10_000
    ):
        if status == Match.Status.CONFIRMED:
            confirmed.append((a, b))
        elif status == Match.Status.REJECTED:
            rejected.append((a, b))
        else:
            evidence = {"agreement": agreement, "blocks": blocks}
            machine.append(Edge(a, b, strong=not is_weak(relation, evidence), score=score))
    return confirmed, machine, rejected


def joining_edges_detail(
    rendition_ids: Iterable[int] | None = None,
) -> list[tuple[int, int, str, str, str, str, int]]:
    """Return (a, b, relation, tier, status, original, distance) for every joining match
    (only those touching the given renditions, if any are given)."""
    matches = _joining_matches()
    if rendition_ids is not None:
        ids = list(rendition_ids)
        matches = matches.filter(Q(rendition_a__in=ids) | Q(rendition_b__in=ids))
    return list(
        matches.values_list(
            "rendition_a_id",
            "rendition_b_id",
            "relation",
            "tier",
            "status",
            "original",
            "distance",
        )
    )


@dataclass(slots=True)
class GroupMember:
    """One copy in a duplicate group, with how it relates to its parent (`of`).

    `of` is the kept copy of the rendition this one was made from, or, for a byte or pixel
    copy (exact_copy, same_pixels), the kept copy of its own rendition; None for the master.
    """

    copy: Copy
    relation: str
    tier: str
    distance: int
    reviewed: bool = False
    retired: bool = False  # a newer version of the photograph supersedes this rendition
    of: Copy | None = None
    redundant: bool = False  # a byte or pixel copy beyond the one kept: reclaimable


@dataclass(slots=True)
class DuplicateGroup:
    """The copies the inventory places with one photograph (asset)."""

    asset_id: int
    members: list[GroupMember] = field(default_factory=list)
    # "rule": the master rule chose the master; "chosen": a person did; "fallback": a person
    # chose a copy that no longer holds (missing, or no longer this photograph's), so the
    # rule chose again and the asset is flagged for review.
    master_basis: str = "rule"
    # Copies held in sources the reader may not see: counted, never listed (MemberScope).
    elsewhere: int = 0
    # Set when members are hidden: the figure of the whole group, as before hiding.
    whole_reclaimable_bytes: int | None = None

    @property
    def master(self) -> Copy | None:
        """Return the master copy, or None when it lies in a source the reader may not see."""
        first = self.members[0] if self.members else None
        return first.copy if first is not None and first.relation == "master" else None

    @property
    def cover(self) -> Copy:
        """Return the copy to show the group by: the master, else the first one shown."""
        return self.members[0].copy

    @property
    def copies(self) -> int:
        """Return how many copies the group holds, those shown and those counted elsewhere."""
        return len(self.members) + self.elsewhere

    @property
    def reclaimable_bytes(self) -> int:
        """Return the bytes of the redundant byte and pixel copies (see selectors.reclaimable)."""
        if self.whole_reclaimable_bytes is not None:
            return self.whole_reclaimable_bytes
        return sum(m.copy.size for m in self.members if m.redundant)

    @property
    def sources(self) -> list[str]:
        return sorted({m.copy.source.name for m in self.members})

    @property
    def tiers(self) -> list[str]:
        return sorted({m.tier for m in self.members if m.relation != "master"})


@dataclass(frozen=True, slots=True)
class MemberScope:
    """Which members of a duplicate group a reader sees by path and size.

    One rule for every page, API response, export and report: members in sources the reader
    may not see are counted ("2 copies in another department"), never listed, unless the
    reader is organisation-wide (source_ids None: every member is shown).
    """

    source_ids: frozenset[int] | None = None

    def shows(self, copy: Copy) -> bool:
        return self.source_ids is None or copy.source_id in self.source_ids

    def hide(self, group: DuplicateGroup) -> DuplicateGroup:
        """Return the group as this reader sees it."""
        if self.source_ids is None:
            return group
        shown = [
            # A parent in a source the reader may not see is not named either.
            m if m.of is None or self.shows(m.of) else replace(m, of=None)
            for m in group.members
            if m.copy.source_id in self.source_ids
        ]
        if len(shown) == len(group.members) and all(
            a.of is b.of for a, b in zip(shown, group.members, strict=True)
        ):
            return group
        return DuplicateGroup(
            asset_id=group.asset_id,
            members=shown,
            master_basis=group.master_basis,
            elsewhere=len(group.members) - len(shown),
            whole_reclaimable_bytes=group.reclaimable_bytes,
        )


EVERY_MEMBER = MemberScope()


@dataclass(frozen=True, slots=True)
class _Edge:
    other: int
    relation: str
    tier: str
    reviewed: bool
    distance: int


class _MatchGraph:
    """The matches that join renditions into assets, loaded once per listing."""

    def __init__(self, rendition_ids: Iterable[int] | None = None) -> None:
        self.edges: dict[int, list[_Edge]] = defaultdict(list)
        self.derivatives: set[int] = set()
        for a, b, relation, tier, status, original, distance in joining_edges_detail(rendition_ids):
            reviewed = status == "confirmed"
            tier = "probable" if reviewed else tier
            self.edges[a].append(_Edge(b, relation, tier, reviewed, distance))
            self.edges[b].append(_Edge(a, relation, tier, reviewed, distance))
            if original == "a":
                self.derivatives.add(b)
            elif original == "b":
                self.derivatives.add(a)

    def path(self, start: int, goal: int) -> list[_Edge]:
        """Return the edges of a shortest path between two renditions (empty if none)."""
        previous: dict[int, tuple[int, _Edge] | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                break
            for edge in self.edges.get(node, ()):
                if edge.other not in previous:
                    previous[edge.other] = (node, edge)
                    queue.append(edge.other)
        if goal not in previous:
            return []
        path = []
        step = previous[goal]
        while step is not None:
            node, edge = step
            path.append(edge)
            step = previous[node]
        return path[::-1]


def with_retired(copies: QuerySet[Copy]) -> QuerySet[Copy]:
    """Annotate each copy with `retired`: a newer version of its photograph supersedes it."""
    newer = Supersession.objects.filter(
        older=OuterRef("rendition"), older__asset=F("newer__asset"), withdrawn_at__isnull=True
    )
    return copies.annotate(retired=Exists(newer))


# An asset's chosen master: (master_copy_id, master_rendition_id); the copy is None when it
# was deleted (its source removed).
MasterChoice = tuple[int | None, int]


def chosen_masters(asset_ids: Iterable[int] | None = None) -> dict[int, MasterChoice]:
    """Return the masters people chose, by asset."""
    assets = Asset.objects.filter(master_rendition__isnull=False)
    if asset_ids is not None:
        assets = assets.filter(pk__in=list(asset_ids))
    return {
        pk: (copy_id, rendition_id)
        for pk, copy_id, rendition_id in assets.values_list(
            "pk", "master_copy_id", "master_rendition_id"
        )
    }


def derivative_ids(copies: list[Copy]) -> set[int]:
    """Return the renditions of these present copies that were made from another present one
    (directly, or through renditions no longer held): the master rule never proposes them."""
    parents: dict[int, int | None] = {
        c.decoded_rendition_id: c.decoded_rendition.parent_id for c in copies
    }
    present = set(parents)
    unknown = {p for p in parents.values() if p is not None and p not in parents}
    while unknown:
        found = dict(Rendition.objects.filter(pk__in=unknown).values_list("pk", "parent_id"))
        parents.update(found)
        parents.update(dict.fromkeys(unknown - set(found)))
        unknown = {p for p in found.values() if p is not None and p not in parents}
    return present_derivatives(parents, present)


def master_candidate(copy: Copy, *, derivatives: set[int], retired: set[int]) -> Candidate:
    """Describe a copy (with its source and rendition loaded) for the master rule."""
    rendition = copy.decoded_rendition
    return Candidate(
        authoritative=copy.source.authoritative,
        area=rendition.width * rendition.height,
        resolution=rendition.original_area,
        derivative=rendition.pk in derivatives,
        capture_ts=rendition.capture_time.timestamp() if rendition.capture_time else None,
        mtime_ns=copy.mtime_ns,
        metadata_fields=sum(v not in (None, "") for v in (rendition.metadata or {}).values()),
        retired=rendition.pk in retired,
        source_name=copy.source.name,
        path=copy.path,
    )


def order_for_master(
    copies: list[Copy],
    *,
    retired: set[int],
    choice: MasterChoice | None = None,
    derivatives: set[int] | None = None,
) -> str:
    """Sort present copies of one asset master first; return the basis of the choice.

    The basis is "rule", "chosen" (a person's choice holds) or "fallback" (a person's choice
    no longer holds: the best copy of the chosen rendition, else the rule's, leads).
    derivatives defaults to the copies' stored lineage (derivative_ids).
    """
    rule = settings.PROVENA_MASTER_RULE
    if derivatives is None:
        derivatives = derivative_ids(copies)
    copies.sort(
        key=lambda c: master_key(
            master_candidate(c, derivatives=derivatives, retired=retired), rule
        )
    )
    if choice is None or not copies:
        return "rule"
    copy_id, rendition_id = choice
    lead = next((c for c in copies if c.pk == copy_id and c.rendition_id == rendition_id), None)
    basis = "chosen"
    if lead is None:
        basis = "fallback"
        lead = next((c for c in copies if c.rendition_id == rendition_id), copies[0])
    copies.remove(lead)
    copies.insert(0, lead)
    return basis


def _path_member(copy: Copy, master: Copy, graph: _MatchGraph) -> GroupMember:
    """Describe a member the lineage cannot place (no held ancestor) against the master."""
    path = graph.path(master.decoded_rendition_id, copy.decoded_rendition_id)
    relations = {edge.relation for edge in path}
    relation = relations.pop() if len(relations) == 1 else "edited"
    tier = "possible" if any(e.tier == "possible" for e in path) else "probable"
    return GroupMember(
        copy=copy,
        relation=relation,
        tier=tier,
        # The match's own distance (it may come from a crop window or a rotated probe).
        distance=sum(e.distance for e in path)
        if path
        else hex_distance(master.decoded_rendition.phash, copy.decoded_rendition.phash),
        reviewed=bool(path) and all(e.reviewed for e in path),
        of=master,
    )


def _parent_member(copy: Copy, parent: Copy, match: Match | None) -> GroupMember:
    """Describe a rendition's kept copy against its parent's kept copy (the match between)."""
    if match is None:
        distance = hex_distance(parent.decoded_rendition.phash, copy.decoded_rendition.phash)
        return GroupMember(copy=copy, relation="edited", tier="probable", distance=distance,
                           of=parent)  # fmt: skip
    reviewed = match.status == Match.Status.CONFIRMED
    return GroupMember(
        copy=copy,
        relation=match.relation,
        tier=Match.Tier.PROBABLE if reviewed else match.tier,
        distance=match.distance,
        reviewed=reviewed,
        of=parent,
    )


def _held_parent(rendition: Rendition, held: dict[int, Copy]) -> tuple[Copy | None, Match | None]:
    """Return the kept copy of the nearest held ancestor and the match to it (None when the
    parent itself is not held: the relation then spans more than one edit)."""
    parent_id = rendition.parent_id
    if parent_id is None:
        return None, None
    if parent_id in held:
        return held[parent_id], rendition.parent_match
    seen = {rendition.pk}
    while parent_id is not None and parent_id not in held and parent_id not in seen:
        seen.add(parent_id)
        parent_id = Rendition.objects.filter(pk=parent_id).values_list("parent_id", flat=True)[0]
    return (held[parent_id], None) if parent_id in held else (None, None)


def _group_from(
    asset_id: int,
    copies: list[Copy],
    retired: set[int],
    choice: MasterChoice | None,
) -> DuplicateGroup:
    basis = order_for_master(copies, retired=retired, choice=choice)
    master = copies[0]
    chosen = {master.pk} | ({choice[0]} if choice and choice[0] else set())
    kept_ids = kept_copies([HeldCopy.of(c) for c in copies], chosen_copy_ids=chosen)
    held = {c.decoded_rendition_id: c for c in copies if kept_ids[c.decoded_rendition_id] == c.pk}
    group = DuplicateGroup(asset_id=asset_id, master_basis=basis)
    group.members.append(
        GroupMember(
            copy=master,
            relation="master",
            tier="certain",
            distance=0,
            retired=master.rendition_id in retired,
        )
    )
    graph: _MatchGraph | None = None
    for copy in copies[1:]:
        kept = held[copy.decoded_rendition_id]
        if kept.pk != copy.pk:
            member = GroupMember(
                copy=copy,
                relation="exact_copy" if copy.sha256 == kept.sha256 else "same_pixels",
                tier="certain",
                distance=0,
                of=kept,
                redundant=True,
            )
        else:
            parent, match = _held_parent(copy.decoded_rendition, held)
            if parent is not None and parent.rendition_id != copy.rendition_id:
                member = _parent_member(copy, parent, match)
            else:
                if graph is None:
                    graph = _MatchGraph(held)
                member = _path_member(copy, master, graph)
        member.retired = copy.rendition_id in retired
        group.members.append(member)
    return group


def group_of_copies(
    *, asset_id: int, copies: list[Copy], keep: Copy, retired: set[int]
) -> DuplicateGroup:
    """Return the group these present copies of one asset form with keep as its master."""
    return _group_from(asset_id, list(copies), retired, (keep.pk, keep.decoded_rendition_id))


def duplicate_groups(
    *,
    sources: Iterable[Source] | QuerySet[Source] | None = None,
    asset_ids: list[int] | None = None,
    scope: MemberScope = EVERY_MEMBER,
) -> Iterator[DuplicateGroup]:
    """Yield the groups of present copies that hold the same photograph more than once,
    each as the reader (scope) sees it."""
    present = Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset__isnull=False)
    if sources is not None:
        # A group counts when any of its copies is in scope; all its members are shown.
        in_scope = present.filter(source__in=sources).values("rendition__asset")
        present = present.filter(rendition__asset__in=in_scope)
    if asset_ids is not None:
        present = present.filter(rendition__asset__in=asset_ids)
    multi = (
        present.values("rendition__asset")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("rendition__asset")
    )
    rows = (
        present.filter(rendition__asset__in=multi)
        .select_related("source", "rendition", "rendition__parent_match")
        .order_by("rendition__asset_id", "pk")
    )
    retired = retired_rendition_ids()
    choices = chosen_masters(asset_ids)
    for asset_id, bucket in groupby(rows.iterator(chunk_size=5000), key=_asset_id):
        yield scope.hide(_group_from(asset_id, list(bucket), retired, choices.get(asset_id)))


def _asset_id(copy: Copy) -> int:
    asset_id = copy.decoded_rendition.asset_id
    assert asset_id is not None  # duplicate_groups reads copies of assets only
    return asset_id
