"""Reviewers' rulings on matches, and regrouping renditions into assets."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent, User
from inventory.models import Asset, Match, MatchDecision, Rendition
from inventory.selectors import regroup_edges
from inventory.selectors_assets import asset_source_id
from inventory.services.asset_upkeep import (
    assets_carry_over,
    assets_check_masters,
    supersessions_follow,
)

_CHUNK = 1000


class _UnionFind:
    """Union-find whose components refuse to join renditions a person ruled apart."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        # root -> renditions its members were ruled different from
        self.apart: dict[int, list[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            self.parent[x] = self.parent.setdefault(parent, parent)
            x, parent = parent, self.parent[parent]
        return x

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
        moved = self.apart.pop(high, None)
        if moved:
            self.apart.setdefault(low, []).extend(moved)


def _components(rendition_ids) -> dict[int, list[int]]:
    """Return the renditions by component: people's confirmations join first and always;
    machine matches join next, strongest first, unless they would join renditions a person
    ruled different (such a match stays in the review queue)."""
    confirmed, machine, rejected = regroup_edges()
    uf = _UnionFind()
    for a, b in rejected:
        uf.keep_apart(a, b)
    for a, b in confirmed:
        uf.union(a, b)
    for a, b in machine:
        if not uf.conflicts(a, b):
            uf.union(a, b)
    components: dict[int, list[int]] = defaultdict(list)
    for rid in rendition_ids:
        components[uf.find(rid)].append(rid)
    return components


@transaction.atomic
def assets_regroup(*, user: User | None = None) -> int:
    """Make each connected group of matched renditions one asset; return renditions moved.

    Emptied assets hand their catalogue record, licences, supersessions and chosen master to
    the asset their renditions joined; chosen masters that stop holding are flagged.
    """
    current = dict(Rendition.objects.values_list("id", "asset_id"))
    moves: dict[int, list[int]] = defaultdict(list)
    taken: set[int] = set()
    placed: dict[int, int] = {}
    # The component holding the oldest rendition keeps an asset first, so asset numbers
    # people have cited stay with the photograph they were cited for; a split-off part
    # gets a new asset.
    for members in sorted(_components(current).values(), key=min):
        asset_ids = sorted({current[r] for r in members if current[r] is not None} - taken)
        target = asset_ids[0] if asset_ids else Asset.objects.create().pk
        taken.add(target)
        for rid in members:
            placed[rid] = target
            if current[rid] != target:
                moves[target].append(rid)
    moved = 0
    for target, rids in moves.items():
        for start in range(0, len(rids), _CHUNK):
            moved += Rendition.objects.filter(pk__in=rids[start : start + _CHUNK]).update(
                asset_id=target
            )
    if moved:
        emptied = {a for a in current.values() if a is not None} - taken
        went: dict[int, Counter] = defaultdict(Counter)
        for rid, old in current.items():
            if old in emptied:
                went[old][placed[rid]] += 1
        absorbed_into = {
            old: min(counts, key=lambda t: (-counts[t], t)) for old, counts in went.items()
        }
        assets_carry_over(absorbed_into=absorbed_into, user=user)
        supersessions_follow()
        Asset.objects.filter(pk__in=emptied).delete()
        assets_check_masters()
        # Privacy cases follow their photograph into the merged or split assets.
        from governance.privacy.services.cases import privacy_cases_refresh

        privacy_cases_refresh()
    return moved


def _validated(verdict: str, reason: str, relation: str, match: Match) -> tuple[str, str]:
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
    return reason, relation


def matches_decide(
    *, matches: list[Match], user: User, verdict: str, reason: str, relation: str = ""
) -> list[MatchDecision]:
    """Record one ruling on each match (no regrouping; the caller regroups once).

    Each ruling is a `reviewed` event on the match. Callers hold a transaction and have
    checked the user's permission.
    """
    decisions = []
    events = []
    for match in matches:
        why, match_relation = _validated(verdict, reason, relation, match)
        decisions.append(
            MatchDecision.objects.create(
                match=match, verdict=verdict, relation=match_relation, reason=why, decided_by=user
            )
        )
        match.status = (
            Match.Status.CONFIRMED
            if verdict == MatchDecision.Verdict.SAME
            else Match.Status.REJECTED
        )
        if match_relation:
            match.relation = match_relation
        match.save(update_fields=["status", "relation", "updated_at"])
        asset_id = (
            Rendition.objects.filter(pk=match.rendition_a_id)
            .values_list("asset_id", flat=True)
            .first()
        )
        events.append(
            EventSpec(
                event_type=AuditEvent.EventType.REVIEWED,
                object_type="match",
                object_id=match.pk,
                detail={
                    "verdict": verdict,
                    "relation": match_relation,
                    "reason": why,
                    "renditions": [match.rendition_a_id, match.rendition_b_id],
                    "asset": asset_id,
                },
                user=user,
                source_id=asset_source_id(asset_id) if asset_id else None,
            )
        )
    audit_record_many(events)
    return decisions


@transaction.atomic
def match_decide(
    *, match: Match, user: User, verdict: str, reason: str, relation: str = ""
) -> MatchDecision:
    """Record a reviewer's ruling on a match and regroup; a later ruling supersedes it."""
    if not user.has_perm("inventory.review_match"):
        raise PermissionDenied("your role may not review matches")
    _validated(verdict, reason, relation, match)
    (decision,) = matches_decide(
        matches=[match], user=user, verdict=verdict, reason=reason, relation=relation
    )
    assets_regroup(user=user)
    return decision
