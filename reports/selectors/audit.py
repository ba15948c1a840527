"""Read the audit log as one user may: scoped to the departments whose sources they see."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from governance.models import AuditEvent, User
from governance.roles import is_organisation_wide
from inventory.selectors.visibility import sources_visible_to


def audit_events_visible_to(*, user: User) -> QuerySet[AuditEvent]:
    """Return the events the user may read: all for organisation-wide roles, else those on
    objects in the sources the user sees, plus the user's own."""
    events = AuditEvent.objects.select_related("agent_user")
    if is_organisation_wide(user=user):
        return events
    visible = sources_visible_to(user=user).values("pk")
    return events.filter(Q(source_id__in=visible) | Q(agent_user=user))


class AuditEventFilter(django_filters.FilterSet):
    """The filters of the audit log, used by `/audit/` and `/api/audit-events/` alike."""

    seq_after = django_filters.NumberFilter(field_name="seq", lookup_expr="gt")

    class Meta:
        model = AuditEvent
        fields = ["event_type", "object_type", "object_id", "outcome", "source_id"]
