"""Reviewers' rulings on matches, and regrouping renditions into assets."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.audit import EventSpec, audit_record_many
from governance.models import AuditEvent, User
from inventory.models import Match, MatchDecision, Rendition
from inventory.selectors.assets import asset_source_id
from inventory.services.grouping import assets_regroup
from inventory.services.lineage import assets_of_renditions, lineage_refresh


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
    # A ruling inside one asset moves nothing but may change who was made from whom.
    lineage_refresh(
        asset_ids=assets_of_renditions([match.rendition_a_id, match.rendition_b_id]), user=user
    )
    return decision
