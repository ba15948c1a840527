"""Reviewers' rulings on matches, and regrouping renditions into assets."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.models import User
from inventory.models import Asset, Match, MatchDecision, Rendition
from inventory.selectors import joining_edges

_CHUNK = 1000


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            self.parent[x] = self.parent.setdefault(parent, parent)
            x, parent = parent, self.parent[parent]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@transaction.atomic
def assets_regroup() -> int:
    """Make each connected group of matched renditions one asset; return renditions moved."""
    uf = _UnionFind()
    for a, b in joining_edges():
        uf.union(a, b)
    current = dict(Rendition.objects.values_list("id", "asset_id"))
    components: dict[int, list[int]] = defaultdict(list)
    for rid in current:
        components[uf.find(rid)].append(rid)
    moves: dict[int, list[int]] = defaultdict(list)
    taken: set[int] = set()
    # The component holding the oldest rendition keeps an asset first, so asset numbers
    # people have cited stay with the photograph they were cited for; a split-off part
    # gets a new asset.
    for members in sorted(components.values(), key=min):
        asset_ids = sorted({current[r] for r in members if current[r] is not None} - taken)
        target = asset_ids[0] if asset_ids else Asset.objects.create().pk
        taken.add(target)
        for rid in members:
            if current[rid] != target:
                moves[target].append(rid)
    moved = 0
    for target, rids in moves.items():
        for start in range(0, len(rids), _CHUNK):
            moved += Rendition.objects.filter(pk__in=rids[start : start + _CHUNK]).update(
                asset_id=target
            )
    if moved:
        Asset.objects.filter(renditions__isnull=True).delete()
    return moved


@transaction.atomic
def match_decide(
    *, match: Match, user: User, verdict: str, reason: str, relation: str = ""
) -> MatchDecision:
    """Record a reviewer's ruling on a match and regroup; a later ruling supersedes it."""
    if not user.has_perm("inventory.review_match"):
        raise PermissionDenied("your role may not review matches")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why: a decision without a reason cannot be audited"})
    if verdict not in MatchDecision.Verdict.values:
        raise ValidationError(
            {"verdict": f"must be one of {', '.join(MatchDecision.Verdict.values)}"}
        )
    if verdict == MatchDecision.Verdict.SAME:
        relation = relation or match.relation
        if relation not in Match.RELATIONS or relation == "similar":
            raise ValidationError({"relation": f"{relation!r} is not a relation of a copy"})
    else:
        relation = ""
    decision = MatchDecision.objects.create(
        match=match, verdict=verdict, relation=relation, reason=reason, decided_by=user
    )
    match.status = (
        Match.Status.CONFIRMED if verdict == MatchDecision.Verdict.SAME else Match.Status.REJECTED
    )
    if relation:
        match.relation = relation
    match.save(update_fields=["status", "relation", "updated_at"])
    assets_regroup()
    return decision
