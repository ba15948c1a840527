"""Read what safe execution may act on and what is in quarantine."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import User
from governance.remediation.models import QuarantineEntry, RemediationTask
from governance.remediation.selectors.tasks import Status
from inventory.selectors.visibility import sources_visible_to


def executable_tasks(*, source_id: int) -> QuerySet[RemediationTask]:
    """Return the tasks Provena may carry out in a source: removals not yet done."""
    return (
        RemediationTask.objects.filter(
            copy__source_id=source_id,
            action__in=RemediationTask.REMOVALS,
            status__in=(Status.OPEN, Status.IN_PROGRESS),
        )
        .select_related("copy__source")
        .order_by("severity", "due_date", "pk")
    )


def quarantine_visible_to(*, user: User) -> QuerySet[QuarantineEntry]:
    """Return the quarantine entries of the sources the user may see."""
    return QuarantineEntry.objects.filter(source__in=sources_visible_to(user=user)).select_related(
        "source", "task", "quarantined_by", "restored_by", "purged_by"
    )
