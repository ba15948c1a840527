"""The audit log page: events newest first, filtered, with the chain head verified."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from governance.audit import audit_head, audit_verify
from governance.http import AuthenticatedRequest
from governance.models import AuditEvent
from reports.selectors.audit import AuditEventFilter, audit_events_visible_to

EVENTS_PER_PAGE = 50
# Up to this many events the page verifies the chain on every view (well under a second);
# beyond it, verification runs when asked for (or from cron with verify_audit_log).
AUTO_VERIFY_LIMIT = 10_000
FILTERS = ("event_type", "object_type", "object_id", "outcome")
OBJECT_TYPES = ("source", "scan", "copy", "rendition", "asset", "match", "licence", "report")


@login_required
@permission_required("governance.view_auditevent", raise_exception=True)
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    """List audit events newest first, filtered, with the chain head and its verification."""
    params = request.GET
    events = AuditEventFilter(
        params, queryset=audit_events_visible_to(user=request.user).order_by("-seq")
    ).qs
    page = Paginator(events, EVENTS_PER_PAGE).get_page(params.get("page"))
    head = audit_head()
    verification = None
    if params.get("verify") == "1" or head.count <= AUTO_VERIFY_LIMIT:
        verification = audit_verify()
    query = params.copy()
    query.pop("page", None)
    query.pop("verify", None)
    object_types = list(OBJECT_TYPES)
    if params.get("object_type") and params["object_type"] not in object_types:
        object_types.append(params["object_type"])
    return render(
        request,
        "governance/audit_log.html",
        {
            "page": page,
            "head": head,
            "verification": verification,
            "event_types": AuditEvent.EventType.choices,
            "outcomes": AuditEvent.Outcome.values,
            "object_types": object_types,
            "filtered": any(params.get(name) for name in FILTERS),
            "params": params,
            "query": query.urlencode(),
        },
    )
