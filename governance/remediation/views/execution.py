"""Safe execution and quarantine pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.http import AuthenticatedRequest
from governance.remediation.models import QuarantineEntry, SourcePolicy
from governance.remediation.selectors.execution import executable_tasks, quarantine_visible_to
from governance.remediation.services.execution import (
    execution_plan,
    execution_run,
    quarantine_root,
    source_policy_set,
)
from governance.remediation.services.quarantine import quarantine_purge, quarantine_restore
from governance.remediation.views.tasks import TASKS_PER_PAGE
from inventory.models import Source
from inventory.selectors.visibility import sources_visible_to


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def execution(request: AuthenticatedRequest) -> HttpResponse:
    """List the sources with whether Provena may execute there and how much waits."""
    sources = list(sources_visible_to(user=request.user))
    enabled = set(
        SourcePolicy.objects.filter(source__in=sources, execution_enabled=True).values_list(
            "source_id", flat=True
        )
    )
    rows = [
        {
            "source": source,
            "enabled": source.pk in enabled,
            "waiting": executable_tasks(source_id=source.pk).count(),
        }
        for source in sources
    ]
    return render(
        request,
        "remediation/execution.html",
        {"rows": rows, "quarantine_root": quarantine_root()},
    )


def _execution_context(request: AuthenticatedRequest, source: Source, **extra: Any) -> dict:
    user = request.user
    return {
        "source": source,
        "plan": execution_plan(source=source),
        "can_execute": user.has_perm("remediation.execute_remediation"),
        "can_configure": user.has_perm("remediation.change_sourcepolicy"),
        **extra,
    }


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def execution_source(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """Show the dry run for one source; POST executes it, or switches execution on or off."""
    source = get_object_or_404(sources_visible_to(user=request.user), name=name)
    if request.method != "POST":
        return render(
            request, "remediation/execution_source.html", _execution_context(request, source)
        )
    action = request.POST.get("action", "")
    try:
        if action in ("enable", "disable"):
            source_policy_set(source=source, enabled=action == "enable", user=request.user)
            text = (
                _("Execution is on for %(source)s.")
                if action == "enable"
                else _("Execution is off for %(source)s.")
            )
            messages.success(request, text % {"source": source.name})
            return redirect("remediation-execution-source", name=source.name)
        if action != "execute":
            raise ValidationError(f"{action!r} is not an action; use execute, enable or disable")
        if request.POST.get("confirm") != "1":
            raise ValidationError("tick the box to confirm that the files listed are to be moved")
        result = execution_run(source=source, user=request.user)
    except ValidationError as exc:
        context = _execution_context(request, source, errors=exc.messages)
        return render(request, "remediation/execution_source.html", context, status=400)
    context = _execution_context(request, source, result=result)
    return render(request, "remediation/execution_source.html", context)


@login_required
@permission_required("remediation.view_quarantineentry", raise_exception=True)
def quarantine(request: AuthenticatedRequest) -> HttpResponse:
    """List the files Provena moved to quarantine, with restore and the purge dry run."""
    entries = quarantine_visible_to(user=request.user)
    state = request.GET.get("state", QuarantineEntry.State.QUARANTINED)
    if state in QuarantineEntry.State.values:
        entries = entries.filter(state=state)
    page = Paginator(entries, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "remediation/quarantine.html",
        _quarantine_context(request, page, state),
    )


def _quarantine_context(
    request: AuthenticatedRequest, page: Page, state: str, **extra: Any
) -> dict:
    return {
        "page": page,
        "state": state,
        "states": QuarantineEntry.State.values,
        "retention_days": settings.PROVENA_QUARANTINE_RETENTION_DAYS,
        "quarantine_root": quarantine_root(),
        "can_execute": request.user.has_perm("remediation.execute_remediation"),
        **extra,
    }


@login_required
@require_POST
def quarantine_restore_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Put one quarantined file back where it was."""
    entry = get_object_or_404(quarantine_visible_to(user=request.user), pk=pk)
    try:
        quarantine_restore(entry=entry, user=request.user)
    except ValidationError as exc:
        entries = quarantine_visible_to(user=request.user).filter(
            state=QuarantineEntry.State.QUARANTINED
        )
        page = Paginator(entries, TASKS_PER_PAGE).get_page(1)
        context = _quarantine_context(request, page, "quarantined", errors=exc.messages)
        return render(request, "remediation/quarantine.html", context, status=400)
    messages.success(
        request,
        _("Restored %(source)s:%(path)s; its task is open again.")
        % {"source": entry.source.name, "path": entry.original_path},
    )
    return redirect("remediation-quarantine")


@login_required
@require_POST
def quarantine_purge_view(request: AuthenticatedRequest) -> HttpResponse:
    """Purge the quarantined files past the retention period (or show which, as a dry run)."""
    dry_run = request.POST.get("dry_run") == "1"
    result = quarantine_purge(user=request.user, dry_run=dry_run)
    entries = quarantine_visible_to(user=request.user).filter(
        state=QuarantineEntry.State.QUARANTINED
    )
    page = Paginator(entries, TASKS_PER_PAGE).get_page(1)
    context = _quarantine_context(request, page, "quarantined", purge=result, purge_dry_run=dry_run)
    return render(request, "remediation/quarantine.html", context)
