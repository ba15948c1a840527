"""The 40-day clock's reminders and the retention period of a request's data.

Both run from cron (`manage.py access_requests remind|purge`) or Celery beat
(governance/privacy/tasks.py), as Provena itself; each is idempotent: a request is reminded
once per stage (due within PROVENA_DSAR_REMINDER_DAYS, then overdue), and its data is deleted
once, PROVENA_DSAR_RETENTION_DAYS after it was closed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from governance import roles
from governance.audit import format_time as audit_time
from governance.models import AuditEvent, User
from governance.privacy.models import DataAccessRequest
from governance.privacy.selectors.requests import (
    days_left,
    reference_photo_file,
    requests_due_for_purge,
    requests_needing_reminder,
    response_pack_file,
)
from governance.privacy.services.requests import MEDIA_FOLDER, audit_step


@dataclass(slots=True)
class ReminderResult:
    requests: int = 0  # requests reminded of (each once, however many people were told)
    sent: int = 0  # e-mails
    skipped: list[str] = field(default_factory=list)  # legal reviewers without an address


def _legal_reviewers() -> list[User]:
    return list(
        User.objects.filter(groups__name=roles.LEGAL_REVIEWER, is_active=True).order_by("pk")
    )


def access_request_reminders_send(
    *, today: date | None = None, dry_run: bool = False
) -> ReminderResult:
    """E-mail the legal role the open requests due soon or overdue that it was not yet told of.

    The subject's reference stays out of the e-mail: it names the request and its dates.
    """
    day = today or timezone.localdate()
    result = ReminderResult()
    due = requests_needing_reminder(today=day)
    if not due:
        return result
    # (request, stage, days left, days late): the template counts with plain numbers.
    rows = []
    for request, stage in due:
        left = days_left(request=request, today=day)
        rows.append((request, stage, left, max(0, -left)))
    result.requests = len(rows)
    messages = []
    for person in _legal_reviewers():
        if not person.email:
            result.skipped.append(f"{person.get_username()} has no e-mail address")
            continue
        body = render_to_string(
            "privacy/email/dsar_reminder.txt",
            {
                "person": person,
                "rows": rows,
                "day": day,
                "days": settings.PROVENA_DSAR_DAYS,
                "site": settings.PROVENA_SITE_URL,
                "organisation": settings.PROVENA_ORGANISATION,
            },
        )
        overdue = sum(stage == DataAccessRequest.Reminder.OVERDUE for _, stage, _, _ in rows)
        subject = (
            f"[Provena] {len(rows)} data access request{'s' if len(rows) != 1 else ''} to answer"
            + (f" ({overdue} overdue)" if overdue else "")
        )
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]))
    if dry_run:
        result.sent = len(messages)
        return result
    if not messages:
        # Nobody could be told: the stage stays unreminded, so tomorrow's run tries again.
        return result
    result.sent = get_connection().send_messages(messages) or 0
    now = timezone.now()
    with transaction.atomic():
        for request, stage, left, _ in rows:
            request.reminder = stage
            request.reminded_at = now
            request.save(update_fields=["reminder", "reminded_at"])
            audit_step(
                AuditEvent.EventType.ACCESS_REQUEST_REMINDED,
                request,
                None,
                {
                    "stage": stage,
                    "due_on": request.due_on.isoformat(),
                    "days_left": left,
                    "recipients": len(messages),
                },
            )
    return result


@dataclass(slots=True)
class DataPurgeResult:
    purged: list[DataAccessRequest] = field(default_factory=list)
    photos: int = 0
    packs: int = 0
    candidates: int = 0
    problems: list[tuple[DataAccessRequest, str]] = field(default_factory=list)


def _unlink(path: Path) -> bool:
    """Delete a file; return whether it was there (a file already gone is not an error)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _purge_one(request: DataAccessRequest, now: datetime, result: DataPurgeResult) -> None:
    """Delete one closed request's reference photos, candidates and pack files, with an event."""
    with transaction.atomic():
        request = DataAccessRequest.objects.select_for_update().get(pk=request.pk)
        if request.data_purged_at is not None:
            return
        photos = list(request.reference_photos.all())
        packs = list(request.response_packs.filter(purged_at__isnull=True))
        files = [reference_photo_file(photo=p) for p in photos]
        files += [response_pack_file(pack=p) for p in packs]
        candidates, _ = request.candidates.all().delete()
        request.reference_photos.all().delete()
        request.response_packs.filter(pk__in=[p.pk for p in packs]).update(purged_at=now)
        request.data_purged_at = now
        request.save(update_fields=["data_purged_at"])
        audit_step(
            AuditEvent.EventType.ACCESS_REQUEST_PURGED,
            request,
            None,
            {
                "closed_at": audit_time(request.closed_at) if request.closed_at else None,
                "retention_days": settings.PROVENA_DSAR_RETENTION_DAYS,
                "reference_photos": [p.sha256 for p in photos],
                "packs": [{"pack": p.pk, "sha256": p.sha256} for p in packs],
                "candidates": candidates,
            },
        )
        # Inside the transaction: a file that cannot be deleted undoes the rows and the event.
        missing = [path.name for path in files if not _unlink(path)]
    folder = Path(settings.PROVENA_MEDIA_ROOT) / MEDIA_FOLDER / str(request.pk)
    with contextlib.suppress(OSError):  # not empty, or already gone: left as it is
        folder.rmdir()
    if missing:
        result.problems.append((request, f"already missing: {', '.join(missing)}"))
    result.purged.append(request)
    result.photos += len(photos)
    result.packs += len(packs)
    result.candidates += candidates


def access_request_data_purge(
    *, now: datetime | None = None, dry_run: bool = False
) -> DataPurgeResult:
    """Delete the reference photos, candidates and response-pack files of requests closed more
    than PROVENA_DSAR_RETENTION_DAYS ago. The request, its replies and the refusal log stay."""
    now = now or timezone.now()
    result = DataPurgeResult()
    for request in requests_due_for_purge(now=now):
        if dry_run:
            result.purged.append(request)
            result.photos += request.reference_photos.count()
            result.packs += request.response_packs.filter(purged_at__isnull=True).count()
            result.candidates += request.candidates.count()
            continue
        try:
            _purge_one(request, now, result)
        except OSError as exc:
            result.problems.append((request, f"not deleted: {exc}"))
    return result
