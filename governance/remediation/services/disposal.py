"""Duplicate disposal: a compliance officer's ruling that an asset's redundant copies go."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.audit import audit_record
from governance.models import AuditEvent, User
from governance.remediation.models import DisposalDecision
from governance.remediation.selectors.disposal import disposal_plan
from governance.remediation.services.tasks import TaskSpec, remediation_tasks_create
from inventory.models import Asset, Copy
from inventory.selectors.assets import asset_writable_by


@transaction.atomic
def disposal_decide(
    *, asset: Asset, decided_by: User, reason: str, keep: Copy | None = None
) -> DisposalDecision:
    """Record the decision (keep one copy: the master unless another is named) and create its
    tasks; an earlier disposal decision on the asset is superseded and its open work waived."""
    if not decided_by.has_perm("remediation.add_disposaldecision"):
        raise PermissionDenied("your role may not decide on disposing of copies")
    # One decision at a time per asset: the later one supersedes the earlier.
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if not asset_writable_by(user=decided_by, asset=asset):
        raise PermissionDenied(
            f"asset {asset.pk}'s master copy is in another department's source; its "
            "department (or an organisation-wide role) decides"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "say why: a decision without a reason cannot be audited"})
    plan = disposal_plan(asset=asset, keep=keep)
    kept = plan.keep
    if plan.problem or kept is None:
        raise ValidationError({"keep": plan.problem or f"asset {asset.pk} has no copy to keep"})
    if not plan.tasks:
        raise ValidationError(
            {
                "keep": f"nothing to dispose of: asset {asset.pk} has no exact or same-pixel "
                "copy of the kept copy and no copy of a superseded version"
            }
        )
    previous = (
        DisposalDecision.objects.filter(asset=asset, superseded_by__isnull=True)
        .order_by("-decided_at", "-pk")
        .first()
    )
    decision = DisposalDecision.objects.create(
        asset=asset,
        keep_copy=kept,
        reason=reason,
        plan=[
            {
                "copy": line.copy.pk,
                "source": line.copy.source.name,
                "path": line.copy.path,
                "sha256": line.copy.sha256,
                "relation": line.relation,
                "action": line.action or "keep",
                "why": line.why,
            }
            for line in plan.lines
        ],
        decided_by=decided_by,
        supersedes=previous,
    )
    audit_record(
        event_type=AuditEvent.EventType.DISPOSAL_DECIDED,
        object_type="disposal_decision",
        object_id=decision.pk,
        detail={
            "asset": asset.pk,
            "keep": {"copy": kept.pk, "source": kept.source.name, "path": kept.path},
            "reason": reason,
            "tasks": len(plan.tasks),
            "supersedes": previous.pk if previous else None,
        },
        user=decided_by,
        source_id=kept.source_id,
    )
    remediation_tasks_create(
        origin=decision,
        plan=[
            TaskSpec(
                copy=line.copy, action=line.action, personal_data=line.personal_data, note=line.why
            )
            for line in plan.tasks
            if line.action  # always: plan.tasks are the lines with an action
        ],
        created_by=decided_by,
        supersedes=previous,
    )
    return decision
