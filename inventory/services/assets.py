"""People's statements about assets: the master, merge, split, supersedes, the catalogue record.

Each one checks the role permission and the department rule (selectors_assets.
asset_writable_by), records who, when and why in the audit log, and goes through the same
match and regrouping machinery as the scans, so later scans respect it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import EventSpec, audit_record, audit_record_many
from governance.models import AuditEvent, Department, User
from inventory.models import (
    Asset,
    CatalogueNumber,
    Copy,
    Match,
    MatchDecision,
    Rendition,
    Supersession,
)
from inventory.pairs.index import hex_distance
from inventory.selectors.assets import (
    AssetMaster,
    asset_department_id,
    asset_master,
    asset_masters,
    asset_source_id,
    asset_writable_by,
)
from inventory.selectors.groups import order_for_master
from inventory.services.grouping import assets_regroup
from inventory.services.matching import match_event
from inventory.services.review import matches_decide

MERGE_RELATION = "edited"


def _require(user: User, permission: str, doing: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(f"your role may not {doing}")


def _require_writable(user: User, asset: Asset, master: AssetMaster | None = None) -> None:
    if asset_writable_by(user=user, asset=asset, master=master):
        return
    department = asset_department_id(asset=asset, master=master)
    code = (
        Department.objects.filter(pk=department).values_list("code", flat=True).first()
        if department is not None
        else None
    )
    raise PermissionDenied(
        f"asset {asset.pk}'s master copy is held by {code or 'no department'}; "
        "ask that department or an administrator"
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why: a change without a reason cannot be audited"})
    return reason


def _master_detail(copy: Copy | None) -> dict:
    if copy is None:
        return {"copy": None}
    return {
        "copy": copy.pk,
        "rendition": copy.rendition_id,
        "source": copy.source.name,
        "path": copy.path,
    }


def _choose(asset: Asset, copy: Copy | None, user: User, reason: str) -> None:
    asset.master_copy = copy
    asset.master_rendition_id = copy.rendition_id if copy else None
    asset.master_set_by = user
    asset.master_set_at = timezone.now()
    asset.master_reason = reason
    asset.master_needs_review = False
    asset.master_review_reason = ""
    asset.save()


@transaction.atomic
def asset_master_set(*, asset: Asset, copy: Copy | None, user: User, reason: str) -> Asset:
    """Choose the asset's master copy (None: hand it back to the master rule), with a reason."""
    _require(user, "inventory.set_master", "choose master copies")
    before = asset_master(asset=asset)
    _require_writable(user, asset, before)
    reason = _reason(reason)
    if copy is not None:
        if copy.rendition is None or copy.rendition.asset_id != asset.pk:
            raise ValidationError({"copy": f"copy {copy.pk} is not a copy of asset {asset.pk}"})
        if not copy.is_present:
            raise ValidationError(
                {"copy": f"copy {copy.pk} is {copy.state}; choose a present copy"}
            )
    _choose(asset, copy, user, reason)
    audit_record(
        event_type=AuditEvent.EventType.MASTER_SET,
        object_type="asset",
        object_id=asset.pk,
        detail={
            "basis": "chosen" if copy else "rule",
            "reason": reason,
            **_master_detail(copy),
            "previous": _master_detail(before.copy),
            "previous_basis": before.basis,
        },
        user=user,
        source_id=copy.source_id if copy else asset_source_id(asset.pk),
    )
    return asset


def _merge_match(one: int, other: int, relation: str, user: User) -> Match:
    """Return the match between two renditions, creating a hand-made one if there is none
    (recorded as `matched` by the user)."""
    a, b = sorted((one, other))
    match = Match.objects.filter(rendition_a_id=a, rendition_b_id=b).first()
    if match is not None:
        return match
    ra, rb = Rendition.objects.get(pk=a), Rendition.objects.get(pk=b)
    distance = hex_distance(ra.phash, rb.phash) if ra.phash and rb.phash else 0
    match = Match.objects.create(
        rendition_a=ra,
        rendition_b=rb,
        # Nothing verified it: a person's word is the evidence, and CONFIRMED makes it join.
        tier=Match.Tier.POSSIBLE,
        relation=relation,
        score=0.0,
        distance=distance,
        original="",
        evidence={"merged_by_hand": True},
    )
    source_id = asset_source_id(ra.asset_id) if ra.asset_id is not None else None
    audit_record_many([match_event(match, source_id, user=user)])
    return match


def _lead_rendition(asset: Asset, master: AssetMaster) -> int:
    if master.rendition_id is not None:
        return master.rendition_id
    first = asset.renditions.order_by("pk").values_list("pk", flat=True).first()
    if first is None:
        raise ValidationError({"asset": f"asset {asset.pk} has no renditions"})
    return first


@transaction.atomic
def assets_merge(
    *, asset: Asset, other: Asset, user: User, reason: str, relation: str = MERGE_RELATION
) -> Asset:
    """Say two assets are one photograph; return the asset that holds both.

    Recorded as a confirmed match between their master renditions (created, with evidence
    {"merged_by_hand": true}, if the matcher never proposed one), so rescans keep it merged.
    """
    _require(user, "inventory.change_asset", "merge assets")
    if asset.pk == other.pk:
        raise ValidationError({"other": "an asset cannot be merged with itself"})
    masters = asset_masters(assets=[asset, other])
    for each in (asset, other):
        _require_writable(user, each, masters[each.pk])
    reason = _reason(reason)
    if relation not in Match.RELATIONS or relation == "similar":
        raise ValidationError({"relation": f"{relation!r} is not a relation of a copy"})
    one, two = _lead_rendition(asset, masters[asset.pk]), _lead_rendition(other, masters[other.pk])
    match = _merge_match(one, two, relation, user)
    matches_decide(
        matches=[match],
        user=user,
        verdict=MatchDecision.Verdict.SAME,
        reason=reason,
        relation=relation,
    )
    assets_regroup(user=user)
    merged = Asset.objects.get(renditions=one)
    audit_record(
        event_type=AuditEvent.EventType.MERGED,
        object_type="asset",
        object_id=merged.pk,
        detail={
            "assets": sorted([asset.pk, other.pk]),
            "into": merged.pk,
            "match": match.pk,
            "renditions": sorted([one, two]),
            "reason": reason,
        },
        user=user,
        source_id=asset_source_id(merged.pk),
    )
    return merged


@transaction.atomic
def asset_split(*, asset: Asset, renditions: Iterable[int], user: User, reason: str) -> list[Asset]:
    """Split renditions off an asset: every joining match across the cut is ruled "different
    photographs", then the assets regroup. Return the assets that hold the former members."""
    _require(user, "inventory.change_asset", "split assets")
    _require_writable(user, asset)
    reason = _reason(reason)
    members = set(asset.renditions.values_list("pk", flat=True))
    cut = {int(r) for r in renditions}
    if not cut:
        raise ValidationError({"renditions": "pick the renditions to split off"})
    strangers = cut - members
    if strangers:
        listed = ", ".join(str(r) for r in sorted(strangers))
        raise ValidationError({"renditions": f"not renditions of asset {asset.pk}: {listed}"})
    if cut == members:
        raise ValidationError({"renditions": "leave at least one rendition with the asset"})
    crossing = [
        m
        for m in Match.objects.filter(rendition_a__in=members, rendition_b__in=members)
        .exclude(status=Match.Status.REJECTED)
        .exclude(tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED)
        if (m.rendition_a_id in cut) != (m.rendition_b_id in cut)
    ]
    matches_decide(
        matches=crossing, user=user, verdict=MatchDecision.Verdict.DIFFERENT, reason=reason
    )
    assets_regroup(user=user)
    resulting = sorted(
        set(Rendition.objects.filter(pk__in=members).values_list("asset_id", flat=True))
    )
    events = [
        EventSpec(
            event_type=AuditEvent.EventType.SPLIT,
            object_type="asset",
            object_id=asset.pk,
            detail={
                "split_off": sorted(cut),
                "assets": resulting,
                "rejected_matches": [m.pk for m in crossing],
                "reason": reason,
            },
            user=user,
            source_id=asset_source_id(asset.pk),
        )
    ]
    events += [
        EventSpec(
            event_type=AuditEvent.EventType.SPLIT,
            object_type="asset",
            object_id=pk,
            detail={"split_from": asset.pk, "reason": reason},
            user=user,
            source_id=asset_source_id(pk),
        )
        for pk in resulting
        if pk != asset.pk
    ]
    audit_record_many(events)
    return list(Asset.objects.filter(pk__in=resulting).order_by("pk"))


def _supersedes_transitively(start: int, goal: int, pairs: list[tuple[int, int]]) -> bool:
    """Return whether rendition start supersedes goal through a chain of supersessions."""
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(older for newer, older in pairs if newer == node)
    return False


@transaction.atomic
def rendition_supersede(
    *, asset: Asset, newer: Rendition, older: Rendition, user: User, reason: str
) -> Supersession:
    """Say a newer version replaces an older one: the older is retired (kept, not deleted);
    if it held the master, the master moves to the newer version's best copy."""
    _require(user, "inventory.change_asset", "record new versions")
    before = asset_master(asset=asset)
    _require_writable(user, asset, before)
    reason = _reason(reason)
    if newer.pk == older.pk:
        raise ValidationError({"older": "a version cannot supersede itself"})
    for label, rendition in (("newer", newer), ("older", older)):
        if rendition.asset_id != asset.pk:
            raise ValidationError(
                {label: f"rendition {rendition.pk} is not a rendition of asset {asset.pk}"}
            )
    pairs = list(
        Supersession.objects.filter(withdrawn_at__isnull=True).values_list("newer_id", "older_id")
    )
    if (newer.pk, older.pk) in pairs:
        raise ValidationError({"older": "this supersession is already recorded"})
    if _supersedes_transitively(older.pk, newer.pk, pairs):
        raise ValidationError(
            {"newer": f"rendition {older.pk} already supersedes {newer.pk}: that would be a loop"}
        )
    supersession = Supersession.objects.create(
        asset=asset, newer=newer, older=older, reason=reason, created_by=user
    )
    audit_record(
        event_type=AuditEvent.EventType.SUPERSEDED,
        object_type="asset",
        object_id=asset.pk,
        detail={"newer": newer.pk, "older": older.pk, "reason": reason},
        user=user,
        source_id=asset_source_id(asset.pk),
    )
    if before.rendition_id == older.pk:
        present = list(
            Copy.objects.filter(rendition=newer, state=Copy.State.PRESENT)
            .select_related("source", "rendition")
            .order_by("pk")
        )
        if present:
            order_for_master(present, derivatives=set(), retired=set())
            lead = present[0]
            why = f"rendition {newer.pk} supersedes {older.pk}: {reason}"
            _choose(asset, lead, user, why)
            audit_record(
                event_type=AuditEvent.EventType.MASTER_SET,
                object_type="asset",
                object_id=asset.pk,
                detail={
                    "basis": "chosen",
                    "reason": why,
                    **_master_detail(lead),
                    "previous": _master_detail(before.copy),
                    "previous_basis": before.basis,
                },
                user=user,
                source_id=lead.source_id,
            )
    return supersession


@transaction.atomic
def supersession_withdraw(*, supersession: Supersession, user: User, reason: str) -> Supersession:
    """Withdraw a supersession with a reason: the older version is no longer retired.

    The statement stays on record, marked with who withdrew it, when and why. A master that
    moved to the newer version when it was recorded stays where it is (a person's choice).
    """
    _require(user, "inventory.change_asset", "withdraw new versions")
    asset = supersession.asset
    _require_writable(user, asset)
    reason = _reason(reason)
    locked = Supersession.objects.select_for_update().get(pk=supersession.pk)
    if not locked.standing:
        who = locked.withdrawn_by.get_username() if locked.withdrawn_by else "someone"
        raise ValidationError(
            {
                "supersession": f"it was already withdrawn by {who} on "
                f"{timezone.localtime(locked.withdrawn_at):%Y-%m-%d %H:%M}"
            }
        )
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = user
    locked.withdrawn_reason = reason
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
    audit_record(
        event_type=AuditEvent.EventType.SUPERSESSION_WITHDRAWN,
        object_type="asset",
        object_id=asset.pk,
        detail={
            "supersession": locked.pk,
            "newer": locked.newer_id,
            "older": locked.older_id,
            "reason": reason,
            "stated_by": locked.created_by.get_username(),
            "stated_reason": locked.reason,
        },
        user=user,
        source_id=asset_source_id(asset.pk),
    )
    return locked


def _catalogue_change(
    asset: Asset, fields: dict[str, str], numbers: Iterable[tuple[str, str]]
) -> tuple[dict[str, str], list[str]]:
    """Apply catalogue fields and add numbers to the asset; return what changed."""
    changed = {}
    for name, value in fields.items():
        if name not in Asset.CATALOGUE_FIELDS:
            raise ValidationError({name: "not a catalogue field"})
        value = (value or "").strip()
        if value and getattr(asset, name) != value:
            setattr(asset, name, value)
            changed[name] = value
    if changed:
        asset.full_clean(exclude=["master_rendition", "master_copy", "master_set_by"])
        asset.save(update_fields=list(changed))
    added = []
    for scheme, number in numbers:
        scheme, number = scheme.strip(), number.strip()
        holder = CatalogueNumber.objects.filter(scheme=scheme, number=number).first()
        if holder is not None and holder.asset_id != asset.pk:
            raise ValidationError(
                {"catalogue_number": f"{scheme} {number} already names asset {holder.asset_id}"}
            )
        if holder is None:
            CatalogueNumber.objects.create(asset=asset, scheme=scheme, number=number)
            added.append(f"{scheme} {number}")
    return changed, added


def catalogue_event(
    asset: Asset,
    changed: dict[str, str],
    added: list[str],
    user: User | None,
    *,
    source_ids: dict[int, int | None] | None = None,
    **extra: Any,
) -> EventSpec:
    """Return the `catalogued` event for a change to an asset's catalogue record.

    source_ids: asset_source_ids() of the assets of a bulk change, looked up once for all.
    """
    source_id = source_ids[asset.pk] if source_ids is not None else asset_source_id(asset.pk)
    return EventSpec(
        event_type=AuditEvent.EventType.CATALOGUED,
        object_type="asset",
        object_id=asset.pk,
        detail={"fields": changed, "catalogue_numbers_added": added, **extra},
        user=user,
        source_id=source_id,
    )


@transaction.atomic
def asset_catalogue_update(
    *,
    asset: Asset,
    user: User,
    fields: dict[str, str] | None = None,
    numbers: Iterable[tuple[str, str]] = (),
) -> Asset:
    """Set catalogue fields (blank values leave a field as it is) and add catalogue numbers."""
    _require(user, "inventory.change_asset", "edit the catalogue")
    _require_writable(user, asset)
    changed, added = _catalogue_change(asset, fields or {}, numbers)
    if changed or added:
        audit_record_many([catalogue_event(asset, changed, added, user)])
    return asset
