"""Regroup renditions into assets from the matches that join them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import transaction

from governance.chunks import chunked
from governance.models import User
from inventory.events import ChangeKind, inventory_changed
from inventory.models import Asset, Rendition
from inventory.pairs.placement import group_renditions
from inventory.selectors.groups import regroup_edges
from inventory.services.asset_upkeep import (
    assets_carry_over,
    assets_check_masters,
    supersessions_follow,
)
from inventory.services.lineage import lineage_refresh

_CHUNK = 1000


def _components(rendition_ids: Iterable[int]) -> dict[int, list[int]]:
    """Return the renditions by component: people's confirmations join first and always;
    machine links join next, strongest first, unless they would join renditions a person
    ruled different (such a match stays in the review queue); a weak link never merges two
    groups (inventory.pairs.placement)."""
    confirmed, machine, rejected = regroup_edges()
    return group_renditions(rendition_ids, machine, confirmed=confirmed, rejected=rejected)


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
        for chunk in chunked(rids, _CHUNK):
            moved += Rendition.objects.filter(pk__in=chunk).update(asset_id=target)
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
        # Lineage follows the renditions: the assets they joined and the ones they left.
        left = {current[rid] for rids in moves.values() for rid in rids}
        lineage_refresh(asset_ids=(set(moves) | left) - emptied, user=user)
        # Privacy cases follow their photograph into the merged or split assets.
        inventory_changed(kind=ChangeKind.ASSETS_REGROUPED, ids=sorted(moves))
    return moved
