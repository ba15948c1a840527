"""Remediation task pages: list, bulk changes, CSV, one task."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.csvsafe import csv_writer
from governance.http import AuthenticatedRequest
from governance.models import Department, User
from governance.remediation.forms import BULK_ACTIONS, BulkForm, StatusForm, form_errors
from governance.remediation.models import RemediationTask
from governance.remediation.selectors.tasks import (
    search_text,
    task_history,
    tasks_filtered,
    tasks_visible_to,
    today,
)
from governance.remediation.services.tasks import MANUAL_STEPS, task_status_set, tasks_bulk
from governance.roles import is_organisation_wide
from inventory.selectors.visibility import sources_visible_to

TASKS_PER_PAGE = 50
CSV_COLUMNS = (
    "id",
    "decision",
    "source",
    "department",
    "path",
    "action",
    "severity",
    "personal_data",
    "status",
    "owner",
    "due_date",
    "overdue",
    "created_at",
    "status_changed_at",
    "verified_at",
    "waived_reason",
    "waived_by",
    "bytes",
    "sha256",
)


def _list_context(request: AuthenticatedRequest, params: QueryDict) -> dict:
    day = today()
    tasks = tasks_filtered(tasks=tasks_visible_to(user=request.user), params=params, day=day)
    tasks = search_text(tasks, params.get("q", ""))
    page = Paginator(tasks.order_by("severity", "due_date", "pk"), TASKS_PER_PAGE).get_page(
        params.get("page")
    )
    query = params.copy()
    query.pop("page", None)
    sources = sources_visible_to(user=request.user)
    user = request.user
    return {
        "page": page,
        "day": day,
        "params": params,
        "query": query.urlencode(),
        "sources": sources,
        "departments": Department.objects.filter(sources__in=sources).distinct(),
        "statuses": RemediationTask.Status.choices,
        "actions": RemediationTask.Action.choices,
        # (code name, label): the filter takes the code name, whatever the language.
        "severities": [(s.name.lower(), s.label) for s in RemediationTask.Severity],
        "owners": _owners(user),
        "can_assign": user.has_perm("remediation.assign_remediationtask"),
        "can_waive": user.has_perm("remediation.waive_remediationtask"),
    }


def _owners(user: User) -> QuerySet[User]:
    """Return the people tasks may be given to: active users the user's departments hold."""
    people = User.objects.filter(is_active=True).select_related("department")
    if not is_organisation_wide(user=user):
        # As sources_visible_to: a user in no department holds no one, not everyone outside one.
        if user.department_id is None:
            return people.none()
        people = people.filter(department_id=user.department_id)
    return people.order_by("username")


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_list(request: AuthenticatedRequest) -> HttpResponse:
    """List tasks with filters and bulk actions (assign, reschedule, waive)."""
    return render(request, "remediation/task_list.html", _list_context(request, request.GET))


@login_required
@require_POST
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Apply a bulk action to the chosen tasks; refusals come back with a 400 and the reason."""
    form = BulkForm(request.POST)
    errors: list[str] = []
    # The task page's own forms come back to it.
    single = request.POST.get("return") == "task" and len(form.task_ids) == 1
    if not form.is_valid():
        errors = form_errors(form)
    else:
        data = form.cleaned_data
        visible = tasks_visible_to(user=request.user)
        tasks = list(visible.filter(pk__in=form.task_ids))
        if len(tasks) != len(form.task_ids):
            errors = ["some of the chosen tasks do not exist or are not yours to see"]
        else:
            try:
                changed = tasks_bulk(
                    action=data["action"],
                    tasks=tasks,
                    user=request.user,
                    owner=data.get("owner") or "",
                    due_date=data.get("due_date"),
                    reason=data.get("reason") or "",
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    _("%(action)s: %(count)s task(s).")
                    % {
                        "action": capfirst(str(dict(BULK_ACTIONS)[data["action"]])),
                        "count": changed,
                    },
                )
                if single:
                    return redirect("remediation-task", pk=form.task_ids[0])
                # Back to the same filters; re-encoded so only a query string goes through.
                back = QueryDict(request.POST.get("next", "")).urlencode()
                url = reverse("remediation-tasks")
                return redirect(f"{url}?{back}" if back else url)
    if single:
        task = get_object_or_404(tasks_visible_to(user=request.user), pk=form.task_ids[0])
        context = {**_task_context(request, task), "errors": errors}
        return render(request, "remediation/task_detail.html", context, status=400)
    context = _list_context(request, request.GET)
    context["errors"] = errors
    return render(request, "remediation/task_list.html", context, status=400)


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_csv(request: AuthenticatedRequest) -> HttpResponse:
    """Export the filtered tasks as CSV, one row per task."""
    day = today()
    tasks = tasks_filtered(tasks=tasks_visible_to(user=request.user), params=request.GET, day=day)
    tasks = search_text(tasks, request.GET.get("q", ""))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="remediation-tasks-{day}.csv"'
    writer = csv_writer(response)
    writer.writerow(CSV_COLUMNS)
    for task in tasks.order_by("severity", "due_date", "pk").iterator(chunk_size=2000):
        row = (
            task.pk,
            task.origin_label,
            task.copy.source.name,
            task.department.code if task.department else "",
            task.path,
            task.action,
            task.get_severity_display(),
            "yes" if task.personal_data else "no",
            task.status,
            task.owner.get_username() if task.owner else "",
            task.due_date.isoformat(),
            "yes" if task.is_overdue(day) else "no",
            task.created_at.isoformat(),
            task.status_changed_at.isoformat(),
            task.verified_at.isoformat() if task.verified_at else "",
            task.waived_reason,
            task.waived_by.get_username() if task.waived_by else "",
            task.size,
            task.sha256,
        )
        writer.writerow(row)
    return response


def _task_context(request: AuthenticatedRequest, task: RemediationTask) -> dict:
    user = request.user
    return {
        "task": task,
        "day": today(),
        "history": task_history(task=task),
        "entries": task.quarantine_entries.select_related("quarantined_by", "restored_by"),
        "steps": [
            (status, RemediationTask.Status(status).label)
            for status in MANUAL_STEPS.get(task.status, ())
        ],
        "can_change": user.has_perm("remediation.change_remediationtask"),
        "can_assign": user.has_perm("remediation.assign_remediationtask"),
        "can_waive": user.has_perm("remediation.waive_remediationtask"),
        "owners": _owners(user),
    }


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Show one task: the copy, the decision, the due date, its history and evidence."""
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=pk)
    return render(request, "remediation/task_detail.html", _task_context(request, task))


@login_required
@require_POST
def task_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Move a task to open, in progress or done; "verified" is refused with a 400."""
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=pk)
    if not request.user.has_perm("remediation.change_remediationtask"):
        raise PermissionDenied("your role may not update remediation tasks")
    form = StatusForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = form_errors(form)
    else:
        try:
            task_status_set(
                task=task,
                status=form.cleaned_data["status"],
                user=request.user,
                note=form.cleaned_data.get("note") or "",
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            task.refresh_from_db()
            messages.success(
                request,
                _("Task %(pk)s is %(status)s.")
                % {"pk": task.pk, "status": task.get_status_display()},
            )
            return redirect("remediation-task", pk=task.pk)
    context = _task_context(request, task)
    context["errors"] = errors
    return render(request, "remediation/task_detail.html", context, status=400)
