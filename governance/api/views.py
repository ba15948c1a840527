"""Thin, read-only API views over the audit log."""

from __future__ import annotations

import django_filters
from rest_framework import viewsets
from rest_framework.authtoken.views import ObtainAuthToken

from governance.api.serializers import AuditEventSerializer
from governance.audit import audit_events_visible_to
from governance.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    seq_after = django_filters.NumberFilter(field_name="seq", lookup_expr="gt")

    class Meta:
        model = AuditEvent
        fields = ["event_type", "object_type", "object_id", "outcome", "source_id"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, in chain order; nothing here (or anywhere) writes or changes an event."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.none()  # for the permission class; get_queryset scopes it
    filterset_class = AuditEventFilter
    ordering_fields = ["seq", "occurred_at"]
    ordering = ["seq"]

    def get_queryset(self):
        return audit_events_visible_to(user=self.request.user).order_by("seq")


class AuthTokenView(ObtainAuthToken):
    """Exchange a user name and password for an API token; throttled like the login page."""

    def get_serializer_context(self) -> dict:
        # django-axes marks a locked-out login on the request handed to authenticate(), and its
        # middleware reads the mark on Django's request, not on DRF's wrapper around it.
        return {**super().get_serializer_context(), "request": self.request._request}
