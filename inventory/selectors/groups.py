"""Read the groups of copies that show one photograph, with each member's relation and master."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from inventory.master_rule import Candidate, master_key
from inventory.models import Asset, Copy, Match, Source, Supersession
from inventory.pairs.index import hex_distance


def _joining_matches() -> QuerySet[Match]:
    return Match.objects.exclude(status=Match.Status.REJECTED).exclude(
        tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED
    )


def joining_edges() -> list[tuple[int, int]]:
    """Return the rendition pairs that belong with one photograph (see Match.joins_asset)."""
    return list(_joining_matches().values_list("rendition_a_id", "rendition_b_id"))


def regroup_edges() -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the rendition pairs people confirmed, the machine's joining pairs (strongest
    first) and the pairs people rejected."""
    rows = Match.objects.exclude(
        tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED
    ).values_list("rendition_a_id", "rendition_b_id", "status", "score")
    confirmed, machine, rejected = [], [], []
    for a, b, status, _score in rows.order_by("-score", "pk").iterator(chunk_size=10_000):
        if status == Match.Status.CONFIRMED:
            confirmed.append((a, b))
        elif status == Match.Status.REJECTED:
            rejected.append((a, b))
        else:
            machine.append((a, b))
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
    """One copy in a duplicate group, with how it relates to the group's master copy."""

    copy: Copy
    relation: str
    tier: str
    distance: int
    reviewed: bool = False
    retired: bool = False  # a newer version of the photograph supersedes this rendition


@dataclass(slots=True)
class DuplicateGroup:
    """The copies the inventory places with one photograph (asset)."""

    asset_id: int
    members: list[GroupMember] = field(default_factory=list)
    # "rule": the master rule chose the master; "chosen": a person did; "fallback": a person
    # chose a copy that no longer holds (missing, or no longer this photograph's), so the
    # rule chose again and the asset is flagged for review.
    master_basis: str = "rule"

    @property
    def master(self) -> Copy:
        return self.members[0].copy

    @property
    def reclaimable_bytes(self) -> int:
        """Return the bytes of certain copies beyond the master: safe to reclaim."""
        return sum(m.copy.size for m in self.members[1:] if m.tier == "certain")

    @property
    def sources(self) -> list[str]:
        return sorted({m.copy.source.name for m in self.members})

    @property
    def tiers(self) -> list[str]:
        return sorted({m.tier for m in self.members[1:]})


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


def retired_rendition_ids(rendition_ids: Iterable[int] | None = None) -> set[int]:
    """Return the renditions a newer version of the same asset supersedes."""
    supersessions = Supersession.objects.filter(
        older__asset__isnull=False, older__asset=F("newer__asset"), withdrawn_at__isnull=True
    )
    if rendition_ids is not None:
        supersessions = supersessions.filter(older__in=list(rendition_ids))
    return set(supersessions.values_list("older_id", flat=True))


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


def master_candidate(copy: Copy, *, derivatives: set[int], retired: set[int]) -> Candidate:
    """Describe a copy (with its source and rendition loaded) for the master rule."""
    rendition = copy.decoded_rendition
    return Candidate(
        authoritative=copy.source.authoritative,
        area=rendition.width * rendition.height,
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
    derivatives: set[int],
    retired: set[int],
    choice: MasterChoice | None = None,
) -> str:
    """Sort present copies of one asset master first; return the basis of the choice.

    The basis is "rule", "chosen" (a person's choice holds) or "fallback" (a person's choice
    no longer holds: the best copy of the chosen rendition, else the rule's, leads).
    """
    rule = settings.PROVENA_MASTER_RULE
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


def _member(copy: Copy, master: Copy, graph: _MatchGraph, retired: set[int]) -> GroupMember:
    if copy.rendition_id == master.rendition_id:
        relation = "exact_copy" if copy.sha256 == master.sha256 else "same_pixels"
        return GroupMember(
            copy=copy,
            relation=relation,
            tier="certain",
            distance=0,
            retired=copy.rendition_id in retired,
        )
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
        retired=copy.rendition_id in retired,
    )


def _group_from(
    asset_id: int,
    copies: list[Copy],
    graph: _MatchGraph,
    retired: set[int],
    choice: MasterChoice | None,
) -> DuplicateGroup:
    basis = order_for_master(copies, derivatives=graph.derivatives, retired=retired, choice=choice)
    master = copies[0]
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
    group.members.extend(_member(copy, master, graph, retired) for copy in copies[1:])
    return group


def duplicate_groups(
    *,
    sources: Iterable[Source] | QuerySet[Source] | None = None,
    asset_ids: list[int] | None = None,
) -> Iterator[DuplicateGroup]:
    """Yield the groups of present copies that hold the same photograph more than once."""
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
        .select_related("source", "rendition")
        .order_by("rendition__asset_id", "pk")
    )
    graph = _MatchGraph()
    retired = retired_rendition_ids()
    choices = chosen_masters(asset_ids)
    by_asset = groupby(rows.iterator(chunk_size=5000), key=lambda c: c.decoded_rendition.asset_id)
    for asset_id, copies in by_asset:
        if asset_id is not None:  # always: the rows are copies of assets
            yield _group_from(asset_id, list(copies), graph, retired, choices.get(asset_id))
