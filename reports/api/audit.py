"""The read-only API over the audit log, scoped like the audit log page."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from governance.api.serializers import AuditEventSerializer
from governance.api.services import signed_in_user
from governance.models import AuditEvent
from reports.selectors.audit import AuditEventFilter, audit_events_visible_to


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, in chain order; nothing here (or anywhere) writes or changes an event."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.none()  # for the permission class; get_queryset scopes it
    filterset_class = AuditEventFilter
    ordering_fields = ["seq", "occurred_at"]
    ordering = ["seq"]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return audit_events_visible_to(user=signed_in_user(self.request)).order_by("seq")
