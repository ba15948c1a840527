"""Answering a data access request as the PDPO asks: the reply sent, a partial reply with
written reasons (s19(2)), a refusal with reasons entered in the refusal log (s21, s27), and
closing.

Building a response pack (services/response_packs.py) is preparing the answer; a reply is
recorded here when it has been sent to the data subject, with the date it was sent, so the
40-day clock is judged on what the subject received. The reasons are kept on the reply and
the refusal, which only the legal role reads; the audit log (read by other roles) records the
step, its dates and whether it was in time.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.models import AuditEvent, User
from governance.privacy.models import (
    AccessRequestRefusal,
    AccessRequestReply,
    DataAccessRequest,
    ResponsePack,
)
from governance.privacy.services.requests import audit_step, check_worker

_CLOSED = DataAccessRequest.Status.CLOSED
_REFUSED = DataAccessRequest.Status.REFUSED


def _locked(request: DataAccessRequest) -> DataAccessRequest:
    return DataAccessRequest.objects.select_for_update().get(pk=request.pk)


def _state(request: DataAccessRequest) -> str:
    return f"data access request {request.pk} is {request.get_status_display().lower()}"


def _check_day(request: DataAccessRequest, day: date, field: str, today: date) -> None:
    """Refuse a date in the future or before the request was received."""
    if day > today:
        raise ValidationError({field: f"{day.isoformat()} is in the future; give the day it was"})
    if day < request.received_on:
        raise ValidationError(
            {
                field: f"{day.isoformat()} is before the request was received "
                f"({request.received_on.isoformat()})"
            }
        )


def _text(value: str | None) -> str:
    return (value or "").strip()


@transaction.atomic
def access_request_reply_record(
    *,
    request: DataAccessRequest,
    kind: str,
    sent_on: date,
    means: str,
    user: User,
    pack: ResponsePack | None = None,
    reasons: str = "",
    today: date | None = None,
) -> AccessRequestReply:
    """Record a reply sent to the data subject: complete (with the pack sent), or partial with
    the written reasons full compliance is not yet possible (s19(2)); the pack is optional."""
    check_worker(user)
    today = today or timezone.localdate()
    request = _locked(request)
    if request.status in (_CLOSED, _REFUSED):
        raise ValidationError(f"{_state(request)}; no reply can be recorded on it")
    if kind not in AccessRequestReply.Kind.values:
        raise ValidationError({"kind": "say whether the reply is complete (full) or partial"})
    means, reasons = _text(means), _text(reasons)
    if not means:
        raise ValidationError({"means": "say how the reply was sent (e-mail, post, by hand)"})
    _check_day(request, sent_on, "sent_on", today)
    if pack is not None and pack.request_id != request.pk:
        raise ValidationError({"pack": f"response pack {pack.pk} belongs to another request"})
    if pack is not None and pack.purged_at is not None:
        raise ValidationError({"pack": f"response pack {pack.pk} was deleted (retention period)"})
    if kind == AccessRequestReply.Kind.FULL and pack is None:
        raise ValidationError(
            {"pack": "name the response pack sent; build one first if there is none"}
        )
    if kind == AccessRequestReply.Kind.PARTIAL and not reasons:
        raise ValidationError(
            {
                "reasons": "a partial reply must give, in writing, the reasons the request cannot "
                "be complied with in full yet (PDPO s19(2))"
            }
        )
    reply = AccessRequestReply.objects.create(
        request=request,
        kind=kind,
        pack=pack,
        reasons=reasons,
        means=means[:200],
        sent_on=sent_on,
        recorded_by=user,
    )
    if kind == AccessRequestReply.Kind.FULL:
        request.status = DataAccessRequest.Status.RESPONDED
        request.responded_at = request.responded_at or timezone.now()
    elif request.status == DataAccessRequest.Status.OPEN:
        request.status = DataAccessRequest.Status.PARTIAL
    request.save(update_fields=["status", "responded_at"])
    late = sent_on > request.due_on
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_SENT,
        request,
        user,
        {
            "reply": reply.pk,
            "kind": kind,
            "pack": pack.pk if pack else None,
            "pack_sha256": pack.sha256 if pack else None,
            "sent_on": sent_on.isoformat(),
            "due_on": request.due_on.isoformat(),
            "days_after_receipt": (sent_on - request.received_on).days,
            "late": late,
        },
        AuditEvent.Outcome.WARNING if late else "",
    )
    return reply


@transaction.atomic
def access_request_refuse(
    *,
    request: DataAccessRequest,
    ground: str,
    reasons: str,
    notified_on: date,
    user: User,
    today: date | None = None,
) -> AccessRequestRefusal:
    """Refuse a request: the ground and reasons go into the refusal log (s27), and the day the
    requestor was told in writing (s21: within the 40 days)."""
    check_worker(user)
    today = today or timezone.localdate()
    request = _locked(request)
    if request.status in (_CLOSED, _REFUSED, DataAccessRequest.Status.RESPONDED):
        raise ValidationError(f"{_state(request)}; it cannot be refused now")
    if ground not in AccessRequestRefusal.Ground.values:
        raise ValidationError({"ground": "choose the ground of the refusal from the list"})
    reasons = _text(reasons)
    if not reasons:
        raise ValidationError(
            {"reasons": "give the reasons for the refusal; they are kept in the refusal log"}
        )
    _check_day(request, notified_on, "notified_on", today)
    refusal = AccessRequestRefusal.objects.create(
        request=request,
        ground=ground,
        reasons=reasons,
        notified_on=notified_on,
        refused_by=user,
    )
    request.status = _REFUSED
    request.save(update_fields=["status"])
    late = notified_on > request.due_on
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_REFUSED,
        request,
        user,
        {
            "refusal": refusal.pk,
            "ground": ground,
            "notified_on": notified_on.isoformat(),
            "due_on": request.due_on.isoformat(),
            "late": late,
        },
        AuditEvent.Outcome.WARNING if late else "",
    )
    return refusal


@transaction.atomic
def access_request_close(
    *, request: DataAccessRequest, note: str, user: User, now: datetime | None = None
) -> DataAccessRequest:
    """Close a request once answered or refused; closing an unanswered one (withdrawn, say)
    needs a note. The retention period of its data starts now."""
    check_worker(user)
    now = now or timezone.now()
    request = _locked(request)
    if request.status == _CLOSED:
        raise ValidationError(f"data access request {request.pk} is already closed")
    note = _text(note)
    answered = request.status in (DataAccessRequest.Status.RESPONDED, _REFUSED)
    if not answered and not note:
        raise ValidationError(
            {
                "note": f"data access request {request.pk} has no complete reply or refusal; say "
                "why it is closed (for example, the requestor withdrew it)"
            }
        )
    previous = request.status
    request.status = _CLOSED
    request.closed_at = now
    request.closed_by = user
    request.close_note = note
    request.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
    audit_step(
        AuditEvent.EventType.ACCESS_REQUEST_CLOSED,
        request,
        user,
        {"previous_status": previous, "answered": answered, "with_note": bool(note)},
    )
    return request
