"""The daily digest: each owner (or, for unowned work, the department's managers) hears about
their overdue remediation tasks by e-mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from governance.remediation.selectors.dashboard import overdue_by_recipient
from governance.remediation.selectors.tasks import today


@dataclass(slots=True)
class DigestResult:
    sent: int = 0
    tasks: int = 0  # overdue tasks mentioned (a task sent to two managers counts once)
    skipped: list[str] = field(default_factory=list)  # recipients without an address


def digest_send(*, now: datetime | None = None, dry_run: bool = False) -> DigestResult:
    """Send one e-mail per person listing their overdue tasks; return what was sent."""
    day = today(now)
    result = DigestResult()
    mentioned: set[int] = set()
    messages = []
    for person, tasks in sorted(overdue_by_recipient(day=day).items(), key=lambda i: i[0].pk):
        if not person.email:
            result.skipped.append(f"{person.get_username()} has no e-mail address")
            continue
        mentioned.update(task.pk for task in tasks)
        body = render_to_string(
            "remediation/email/digest.txt",
            {
                "person": person,
                "tasks": [(task, (day - task.due_date).days) for task in tasks],
                "day": day,
                "site": settings.PROVENA_SITE_URL,
                "list_url": reverse("remediation-tasks"),
                "organisation": settings.PROVENA_ORGANISATION,
            },
        )
        subject = f"[Provena] {len(tasks)} overdue remediation task{'s' if len(tasks) != 1 else ''}"
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]))
    result.tasks = len(mentioned)
    if messages and not dry_run:
        result.sent = get_connection().send_messages(messages) or 0
    elif dry_run:
        result.sent = len(messages)
    return result
