"""Keep assets' human records true as renditions move: carry them over, flag broken masters.

Regrouping (inventory.services.grouping.assets_regroup) empties an asset when its renditions
join another one. Whatever people recorded on it (catalogue fields and numbers, licences,
supersessions, a chosen master) moves to the asset its renditions joined, so nothing a
person said is lost. A chosen master that stops holding is never silently replaced: the
master rule takes over for display and the asset is flagged "master needs review".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, OuterRef, Subquery

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent, User
from inventory.models import (
    Asset,
    CatalogueNumber,
    Copy,
    LicenceAttachment,
    Rendition,
    Supersession,
)
from inventory.selectors.assets import asset_source_id, chosen_master_problem


def _master_source_id(asset: Asset) -> int | None:
    """Return the source of the asset's chosen master copy (for the audit log's scoping)."""
    if asset.master_copy_id is None:
        return None
    return Copy.objects.filter(pk=asset.master_copy_id).values_list("source_id", flat=True).first()


def _carry_over_one(absorbed: Asset, target: Asset, user: User | None) -> EventSpec | None:
    """Move the absorbed asset's records to target; return the event to record, if any."""
    detail: dict = {"absorbed_asset": absorbed.pk}
    numbers = list(CatalogueNumber.objects.filter(asset=absorbed).values_list("scheme", "number"))
    if numbers:
        CatalogueNumber.objects.filter(asset=absorbed).update(asset=target)
        detail["catalogue_numbers"] = [f"{scheme} {number}" for scheme, number in numbers]
    held = set(LicenceAttachment.objects.filter(asset=target).values_list("licence_id", flat=True))
    licences = []
    for attachment in LicenceAttachment.objects.filter(asset=absorbed):
        licences.append(attachment.licence_id)
        if attachment.licence_id in held:
            attachment.delete()  # the same licence on both: one attachment is enough
        else:
            attachment.asset = target
            attachment.save(update_fields=["asset"])
    if licences:
        detail["licences"] = sorted(licences)
    if Supersession.objects.filter(asset=absorbed).update(asset=target):
        detail["supersessions"] = True
    changed: list[str] = []
    conflicts = {}
    for name in Asset.CATALOGUE_FIELDS:
        theirs, ours = getattr(absorbed, name), getattr(target, name)
        if theirs and not ours:
            setattr(target, name, theirs)
            changed.append(name)
        elif theirs and theirs != ours:
            conflicts[name] = theirs
    if changed:
        detail["catalogue_fields"] = changed
    if conflicts:
        # The surviving asset keeps its own values; the log keeps the others.
        detail["catalogue_conflicts"] = conflicts
    if absorbed.master_chosen:
        detail["chosen_master_copy"] = absorbed.master_copy_id
        if not target.master_chosen:
            for name in ("master_rendition_id", "master_copy_id", "master_set_by_id",
                         "master_set_at", "master_reason", "master_needs_review",
                         "master_review_reason"):  # fmt: skip
                setattr(target, name, getattr(absorbed, name))
            changed += ["master"]
        elif target.master_copy_id != absorbed.master_copy_id:
            target.master_needs_review = True
            target.master_review_reason = (
                f"asset {absorbed.pk}, merged into this one, had its own chosen master "
                f"(copy {absorbed.master_copy_id}); choose which one stands"
            )
            changed += ["master_needs_review"]
            detail["master_conflict"] = True
    if changed:
        target.save()
    if len(detail) == 1:
        return None
    return EventSpec(
        event_type=AuditEvent.EventType.MERGED,
        object_type="asset",
        object_id=target.pk,
        detail=detail,
        user=user,
        source_id=asset_source_id(target.pk),
    )


def assets_carry_over(*, absorbed_into: dict[int, int], user: User | None = None) -> int:
    """Move emptied assets' records to the assets that took their renditions; return how many
    carried something."""
    if not absorbed_into:
        return 0
    assets = Asset.objects.in_bulk([*absorbed_into, *absorbed_into.values()])
    events = []
    for absorbed_id, target_id in sorted(absorbed_into.items()):
        event = _carry_over_one(assets[absorbed_id], assets[target_id], user)
        if event is not None:
            events.append(event)
    audit_record_many(events)
    return len(events)


def supersessions_follow() -> int:
    """Point each supersession at its newer rendition's asset; return how many moved."""
    newer_asset = Rendition.objects.filter(pk=OuterRef("newer_id")).values("asset_id")[:1]
    stale = Supersession.objects.exclude(asset_id=F("newer__asset_id")).filter(
        newer__asset__isnull=False
    )
    return stale.update(asset_id=Subquery(newer_asset))


@transaction.atomic
def assets_check_masters(*, asset_ids: Iterable[int] | None = None) -> int:
    """Flag the assets whose chosen master stopped holding; return how many were flagged.

    The choice itself is kept (a person made it); the master rule takes over for display
    until a person chooses again, and a master_set event (outcome warning) says why.
    """
    assets = Asset.objects.filter(master_rendition__isnull=False, master_needs_review=False)
    if asset_ids is not None:
        assets = assets.filter(pk__in=list(asset_ids))
    events = []
    for asset in assets.select_for_update():
        problem = chosen_master_problem(asset)
        if problem is None:
            continue
        asset.master_needs_review = True
        asset.master_review_reason = f"{problem}; the master rule stands in until you choose again"
        asset.save(update_fields=["master_needs_review", "master_review_reason"])
        events.append(
            EventSpec(
                event_type=AuditEvent.EventType.MASTER_SET,
                object_type="asset",
                object_id=asset.pk,
                outcome=AuditEvent.Outcome.WARNING,
                detail={
                    "basis": "fallback",
                    "chosen_copy": asset.master_copy_id,
                    "chosen_rendition": asset.master_rendition_id,
                    "problem": problem,
                },
                source_id=_master_source_id(asset),
            )
        )
    audit_record_many(events)
    return len(events)
