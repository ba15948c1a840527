"""Record legal decisions on privacy cases, their approvals and the consents they rest on.

A decision takes effect by planning remediation tasks (and, to redact, by writing blurred
derivatives under the media root); the originals are never touched here.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import audit_record
from governance.files import atomic_write
from governance.models import AuditEvent, User
from governance.privacy.models import (
    ConsentRecord,
    DecisionApproval,
    PrivacyCase,
    PrivacyDecision,
    Redaction,
)
from governance.privacy.selectors.cases import case_renditions
from governance.remediation.models import RemediationTask
from governance.remediation.services.tasks import TaskSpec, remediation_tasks_create
from inventory.imaging.faces import load_upright
from inventory.imaging.redaction import blur_faces, blur_whole
from inventory.models import Copy
from inventory.selectors.assets import asset_master
from inventory.selectors.people import blur_plan
from inventory.storage import store_for

Outcome = PrivacyDecision.Outcome


def _present_copies(case: PrivacyCase) -> list[Copy]:
    return list(
        Copy.objects.filter(state=Copy.State.PRESENT, rendition__in=case_renditions(case))
        .select_related("source")
        .order_by("pk")
    )


def _plan(decision: PrivacyDecision, case: PrivacyCase) -> list[TaskSpec]:
    """Return the remediation work the decision asks for, one task per copy."""
    copies = _present_copies(case)
    actions: dict[str, str] = {
        Outcome.DELETE_ALL: RemediationTask.Action.QUARANTINE,
        Outcome.RESTRICT_ACCESS: RemediationTask.Action.RESTRICT_ACCESS,
        Outcome.REDACT: RemediationTask.Action.APPLY_REDACTION,
        Outcome.RETAIN_MASTER_ONLY: RemediationTask.Action.REMOVE_DUPLICATE,
    }
    action = actions.get(decision.outcome)
    if action is None:
        return []
    if decision.outcome == Outcome.RETAIN_MASTER_ONLY:
        copies = [c for c in copies if c.pk != decision.master_copy_id]
    note = f"privacy case {case.pk}: {decision.get_outcome_display()}"
    return [TaskSpec(copy=c, action=action, personal_data=True, note=note) for c in copies]


def decision_tasks_create(
    decision: PrivacyDecision, case: PrivacyCase, supersedes: PrivacyDecision | None = None
) -> list[RemediationTask]:
    """Create the remediation tasks the decision asks for on the case's present copies."""
    return remediation_tasks_create(
        origin=decision,
        plan=_plan(decision, case),
        created_by=decision.decided_by,
        supersedes=supersedes,
    )


def _redact(decision: PrivacyDecision, case: PrivacyCase) -> list[Redaction]:
    """Write a face-blurred derivative of every rendition of the photograph; originals untouched.

    Every rendition, not only those whose own detection found a face: the photograph's faces
    are carried onto each (a small copy shows the same person).
    """
    folder = Path(settings.PROVENA_MEDIA_ROOT) / "redactions" / f"case-{case.pk}"
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for rendition in case_renditions(case).order_by("pk"):
        copy = rendition.copies.filter(state=Copy.State.PRESENT).select_related("source").first()
        if copy is None:
            continue
        plan = blur_plan(rendition=rendition)
        boxes = plan.boxes
        image, scale, _ = load_upright(store_for(copy.source).local_path(copy.path), 1_000_000)
        redacted = blur_whole(image) if plan.whole else blur_faces(image, boxes, scale=1 / scale)
        name = f"decision-{decision.pk}-rendition-{rendition.pk}.jpg"
        target = folder / name
        with atomic_write(target) as handle:
            redacted.save(handle, "JPEG", quality=90)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        made.append(
            Redaction.objects.create(
                decision=decision,
                rendition=rendition,
                path=f"redactions/case-{case.pk}/{name}",
                sha256=digest,
                faces=len(boxes),
            )
        )
    return made


def _take_effect(decision: PrivacyDecision, case: PrivacyCase) -> None:
    previous = case.current_decision
    case.current_decision = decision
    case.status = (
        PrivacyCase.Status.ESCALATED
        if decision.outcome == Outcome.ESCALATE
        else PrivacyCase.Status.DECIDED
    )
    case.save(update_fields=["current_decision", "status", "updated_at"])
    redactions = _redact(decision, case) if decision.outcome == Outcome.REDACT else []
    decision_tasks_create(decision, case, supersedes=previous)
    if redactions:
        audit_record(
            event_type=AuditEvent.EventType.REDACTED,
            object_type="privacy_case",
            object_id=case.pk,
            user=decision.decided_by,
            detail={
                "decision": decision.pk,
                "redactions": [{"path": r.path, "sha256": r.sha256} for r in redactions],
            },
        )


def legal_role_check(user: User) -> None:
    """Refuse anyone but the legal role."""
    if not user.has_perm("privacy.decide_privacycase"):
        raise PermissionDenied("only the legal role decides privacy cases")


@transaction.atomic
def privacy_case_decide(
    *,
    case: PrivacyCase,
    outcome: str,
    reason: str,
    decided_by: User,
    legal_basis: str = "",
    consent: ConsentRecord | None = None,
) -> PrivacyDecision:
    """Record a legal decision on the case; it takes effect now or after a second reviewer."""
    legal_role_check(decided_by)
    case = PrivacyCase.objects.select_for_update().get(pk=case.pk)
    reason, legal_basis = (reason or "").strip(), (legal_basis or "").strip()
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": f"must be one of {', '.join(Outcome.values)}"})
    if not reason:
        raise ValidationError({"reason": "say why: a decision without a reason cannot be audited"})
    if case.status == PrivacyCase.Status.MERGED:
        raise ValidationError(f"case {case.pk} was merged into case {case.merged_into_id}")
    if case.status == PrivacyCase.Status.AWAITING_APPROVAL:
        raise ValidationError(
            "a decision on this case awaits a second reviewer: approve or reject it first"
        )
    if outcome == Outcome.RETAIN_ALL and not legal_basis:
        raise ValidationError({"legal_basis": "retaining every copy needs its legal basis"})
    if outcome == Outcome.CONSENT_ON_FILE:
        if consent is None:
            raise ValidationError({"consent": "choose the consent record this rests on"})
        if not consent.in_force_on(timezone.localdate()):
            raise ValidationError({"consent": "that consent is not in force today"})
    copies = _present_copies(case)
    master = asset_master(asset=case.asset) if case.asset is not None else None
    decision = PrivacyDecision.objects.create(
        case=case,
        outcome=outcome,
        reason=reason,
        legal_basis=legal_basis,
        consent=consent if outcome == Outcome.CONSENT_ON_FILE else None,
        supersedes=case.current_decision,
        needs_approval=bool(
            settings.PROVENA_PRIVACY_SECOND_REVIEWER and outcome in PrivacyDecision.DESTRUCTIVE
        ),
        master_copy_id=master.copy.pk if master and master.copy else None,
        covered_copies={str(c.pk): c.sha256 for c in copies},
        decided_by=decided_by,
    )
    audit_record(
        event_type=AuditEvent.EventType.PRIVACY_DECIDED,
        object_type="privacy_case",
        object_id=case.pk,
        user=decided_by,
        detail={
            "decision": decision.pk,
            "outcome": outcome,
            "reason": reason,
            "legal_basis": legal_basis,
            "consent": consent.pk if consent and outcome == Outcome.CONSENT_ON_FILE else None,
            "copies": len(copies),
            "needs_approval": decision.needs_approval,
            "supersedes": decision.supersedes_id,
        },
    )
    if decision.needs_approval:
        case.status = PrivacyCase.Status.AWAITING_APPROVAL
        case.save(update_fields=["status", "updated_at"])
    else:
        _take_effect(decision, case)
    return decision


@transaction.atomic
def privacy_decision_review(
    *, decision: PrivacyDecision, approved: bool, reason: str, decided_by: User
) -> DecisionApproval:
    """Record a second legal reviewer's approval or rejection of a destructive decision."""
    legal_role_check(decided_by)
    decision = (
        PrivacyDecision.objects.select_for_update().select_related("case").get(pk=decision.pk)
    )
    reason = (reason or "").strip()
    if not decision.needs_approval:
        raise ValidationError("this decision does not need a second reviewer")
    if DecisionApproval.objects.filter(decision=decision).exists():
        raise ValidationError("this decision has already been approved or rejected")
    if decided_by.pk == decision.decided_by_id:
        raise ValidationError("a second reviewer must be someone other than the one who decided")
    if not reason:
        raise ValidationError({"reason": "say why"})
    approval = DecisionApproval.objects.create(
        decision=decision, approved=approved, reason=reason, decided_by=decided_by
    )
    case = decision.case
    audit_record(
        event_type=(
            AuditEvent.EventType.PRIVACY_APPROVED
            if approved
            else AuditEvent.EventType.PRIVACY_REJECTED
        ),
        object_type="privacy_case",
        object_id=case.pk,
        user=decided_by,
        detail={"decision": decision.pk, "reason": reason},
    )
    if approved:
        _take_effect(decision, case)
    else:
        case.status = (
            PrivacyCase.Status.DECIDED if case.current_decision_id else PrivacyCase.Status.OPEN
        )
        case.save(update_fields=["status", "updated_at"])
    return approval


@transaction.atomic
def consent_record_create(
    *,
    subject_reference: str,
    document_reference: str,
    obtained_on: date,
    expires_on: date | None,
    scope: str,
    recorded_by: User,
) -> ConsentRecord:
    """Record a consent on file, with its expiry."""
    legal_role_check(recorded_by)
    if not subject_reference.strip() or not document_reference.strip():
        raise ValidationError("a consent record needs the subject and where the form is kept")
    if expires_on and expires_on < obtained_on:
        raise ValidationError({"expires_on": "consent cannot expire before it was obtained"})
    consent = ConsentRecord.objects.create(
        subject_reference=subject_reference.strip(),
        document_reference=document_reference.strip(),
        obtained_on=obtained_on,
        expires_on=expires_on,
        scope=scope.strip(),
        recorded_by=recorded_by,
    )
    audit_record(
        event_type=AuditEvent.EventType.CONSENT_RECORDED,
        object_type="consent",
        object_id=consent.pk,
        user=recorded_by,
        detail={
            "subject": consent.subject_reference,
            "document": consent.document_reference,
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
    )
    return consent
