"""Open and keep privacy cases current, and give them to legal reviewers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from governance.audit import EventSpec, audit_record_many
from governance.chunks import chunked
from governance.models import AuditEvent, User
from governance.privacy.models import PrivacyCase, PrivacyDecision
from governance.privacy.services.decisions import decision_tasks_create, legal_role_check
from inventory.models import Copy, Rendition, Source
from inventory.selectors.people import people_by_asset

_CHUNK = 1000
Outcome = PrivacyDecision.Outcome


@dataclass(slots=True)
class RefreshResult:
    """What one refresh of the privacy cases did."""

    opened: int = 0
    merged: int = 0
    reopened: int = 0
    tasks: int = 0


def _today() -> date:
    return timezone.localdate()


def _holdings(asset_ids: list[int]) -> dict[int, tuple[int, bool]]:
    """Return asset id -> (present copies, whether any is in an external-facing source)."""
    found: dict[int, tuple[int, bool]] = {}
    for chunk in chunked(asset_ids, _CHUNK):
        rows = (
            Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset_id__in=chunk)
            .values("rendition__asset_id")
            .annotate(
                n=Count("pk"),
                external=Count("pk", filter=Q(source__risk_tier=Source.RiskTier.EXTERNAL)),
            )
        )
        for row in rows:
            found[row["rendition__asset_id"]] = (row["n"], row["external"] > 0)
    return found


def _faces_by_asset() -> tuple[dict[int, int], dict[int, int]]:
    """Return asset id -> anchor rendition (lowest id with people), and -> identifiable people."""
    anchors: dict[int, int] = {}
    rows = (
        Rendition.objects.filter(identifiable_faces__gt=0, asset__isnull=False)
        .order_by("pk")
        .values_list("pk", "asset_id")
    )
    for pk, asset_id in rows:
        anchors.setdefault(asset_id, pk)
    # The people of the photograph, counted once however many renditions show them.
    return anchors, people_by_asset(asset_ids=anchors)


def _opening_reason(holdings: int, external: bool) -> str | None:
    if holdings > 1:
        return f"identifiable person held {holdings} times"
    if external and settings.PROVENA_PRIVACY_CASE_EXTERNAL and holdings == 1:
        return "identifiable person in an external-facing source"
    return None


@transaction.atomic
def privacy_cases_refresh() -> RefreshResult:
    """Open cases for assets with identifiable people held more than once; keep all current.

    Cases follow their anchor rendition into merged or split assets (two cases on one asset
    become one, the older kept), holdings are recounted, copies found since a decision get
    the decision's remediation tasks, and a decision resting on expired consent reopens.
    """
    result = RefreshResult()
    anchors, faces = _faces_by_asset()
    cases = list(
        PrivacyCase.objects.exclude(status=PrivacyCase.Status.MERGED).select_related(
            "anchor", "current_decision__consent"
        )
    )
    events: list[EventSpec] = []
    # Follow the anchors into their current assets; fold cases that now share one.
    by_asset: dict[int, PrivacyCase] = {}
    for case in sorted(cases, key=lambda c: (c.opened_at, c.pk)):
        case.asset_id = case.anchor.asset_id
        if case.asset_id is None:
            continue  # the anchor is in no asset: nothing to fold the case with
        keeper = by_asset.get(case.asset_id)
        if keeper is None:
            by_asset[case.asset_id] = case
            continue
        case.status, case.merged_into = PrivacyCase.Status.MERGED, keeper
        result.merged += 1
        events.append(
            EventSpec(
                event_type=AuditEvent.EventType.MERGED,
                object_type="privacy_case",
                object_id=case.pk,
                detail={"into": keeper.pk, "asset": case.asset_id},
            )
        )
    holdings = _holdings(sorted(set(anchors) | set(by_asset)))
    today = _today()
    for asset_id, anchor in anchors.items():
        if asset_id in by_asset:
            continue
        count, external = holdings.get(asset_id, (0, False))
        reason = _opening_reason(count, external)
        if reason is None:
            continue
        case = PrivacyCase.objects.create(
            anchor_id=anchor,
            asset_id=asset_id,
            opened_because=reason,
            opened_at=timezone.now(),
            due_on=today + timedelta(days=settings.PROVENA_PRIVACY_CASE_DAYS),
            holdings=count,
            external=external,
            identifiable_faces=faces.get(asset_id, 0),
        )
        by_asset[asset_id] = case
        result.opened += 1
        events.append(
            EventSpec(
                event_type=AuditEvent.EventType.PRIVACY_CASE_OPENED,
                object_type="privacy_case",
                object_id=case.pk,
                outcome=AuditEvent.Outcome.WARNING,
                detail={"asset": asset_id, "reason": reason, "holdings": count},
            )
        )
    for case in cases:
        if case.status != PrivacyCase.Status.MERGED:
            held_in = case.asset_id
            held = holdings.get(held_in, (0, False)) if held_in is not None else (0, False)
            case.holdings, case.external = held
            case.identifiable_faces = faces.get(held_in, 0) if held_in is not None else 0
            decision = case.current_decision
            lapsed = (
                decision is not None
                and decision.outcome == Outcome.CONSENT_ON_FILE
                and decision.consent is not None
                and not decision.consent.in_force_on(today)
            )
            if lapsed:
                case.status = PrivacyCase.Status.OPEN
                case.due_on = today + timedelta(days=settings.PROVENA_PRIVACY_CASE_DAYS)
                case.current_decision = None
                result.reopened += 1
                events.append(
                    EventSpec(
                        event_type=AuditEvent.EventType.PRIVACY_CASE_OPENED,
                        object_type="privacy_case",
                        object_id=case.pk,
                        outcome=AuditEvent.Outcome.WARNING,
                        detail={"reason": "consent on file has expired"},
                    )
                )
    PrivacyCase.objects.bulk_update(
        cases,
        [
            "asset",
            "status",
            "merged_into",
            "holdings",
            "external",
            "identifiable_faces",
            "current_decision",
            "due_on",
        ],
        batch_size=_CHUNK,
    )
    # Copies found since a decision join it: the plan is recomputed and tasks are idempotent.
    # Only cases with a copy first seen after their decision can need more work, so a scan
    # does not revisit every decided case.
    newer_copy = Copy.objects.filter(
        state=Copy.State.PRESENT,
        rendition__asset_id=OuterRef("asset_id"),
        first_seen_at__gt=OuterRef("current_decision__decided_at"),
    )
    for case in (
        PrivacyCase.objects.filter(
            status=PrivacyCase.Status.DECIDED, current_decision__isnull=False
        )
        .filter(Exists(newer_copy))
        .select_related("current_decision__decided_by")
    ):
        if case.current_decision is not None:  # always: the query asks for a decision
            result.tasks += len(decision_tasks_create(case.current_decision, case))
    if events:
        audit_record_many(events)
    return result


@transaction.atomic
def privacy_case_assign(*, case: PrivacyCase, assignee: User | None, assigned_by: User) -> None:
    """Give the case to a legal reviewer (or to nobody)."""
    legal_role_check(assigned_by)
    if assignee is not None and not assignee.has_perm("privacy.decide_privacycase"):
        raise ValidationError({"assignee": f"{assignee} is not a legal reviewer"})
    case.assigned_to = assignee
    case.save(update_fields=["assigned_to", "updated_at"])
