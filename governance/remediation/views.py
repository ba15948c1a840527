"""Pages over remediation: the managers' dashboard, tasks, execution, quarantine, disposal.
Thin views on the selectors and services; a refused change shows its message with a 400."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from governance.models import Department, User
from governance.remediation import charts
from governance.remediation.forms import BulkForm, StatusForm, form_errors
from governance.remediation.models import QuarantineEntry, RemediationTask, SourcePolicy
from governance.remediation.selectors import (
    ageing,
    burn_down,
    disposal_plan,
    executable_tasks,
    progress_by_department,
    quarantine_visible_to,
    risk_by_source,
    savings,
    search_text,
    status_counts,
    task_history,
    tasks_filtered,
    tasks_for_origin,
    tasks_overdue,
    tasks_visible_to,
    today,
)
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.execution import (
    execution_plan,
    execution_run,
    quarantine_purge,
    quarantine_restore,
    quarantine_root,
    source_policy_set,
)
from governance.remediation.services.tasks import MANUAL_STEPS, task_status_set, tasks_bulk
from inventory.models import Copy
from inventory.selectors import is_organisation_wide, sources_visible_to
from inventory.selectors_assets import assets_visible_to
from reports.charts import Bar, hbar_chart
from reports.formatting import si_bytes

TASKS_PER_PAGE = 50
OVERDUE_SHOWN = 50
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


def _svg(markup: str) -> str:
    # The chart modules escape every label they draw.
    return mark_safe(markup)  # noqa: S308


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show progress by department and status, ageing, burn-down, overdue work, risk by source
    and the storage and money the removals reclaim."""
    day = today()
    tasks = tasks_visible_to(user=request.user)
    progress = progress_by_department(tasks=tasks, day=day)
    ages = ageing(tasks=tasks, day=day)
    points = burn_down(tasks=tasks, day=day)
    money = savings(tasks=tasks)
    overdue = tasks_overdue(tasks=tasks, day=day)
    counts = status_counts(tasks=tasks)
    total = sum(counts.values())
    closed = sum(counts[s] for s in RemediationTask.CLOSED)
    return render(
        request,
        "remediation/dashboard.html",
        {
            "day": day,
            "counts": counts,
            "total": total,
            "outstanding": sum(counts[s] for s in RemediationTask.OUTSTANDING),
            "percent_closed": round(100 * closed / total) if total else 0,
            "overdue_count": overdue.count(),
            "overdue": overdue.order_by("due_date", "severity", "pk")[:OVERDUE_SHOWN],
            "progress": progress,
            "ages": ages,
            "risks": risk_by_source(tasks=tasks, day=day),
            "money": money,
            "burn_down": points,
            "status_chart": _svg(charts.status_by_department(progress)),
            "burn_down_chart": _svg(charts.burn_down(points)),
            "ageing_chart": _svg(
                hbar_chart(
                    [Bar(label, count) for label, count in ages.items()],
                    value_format=lambda v: f"{int(v):,} task{'' if int(v) == 1 else 's'}",
                    label_width=110,
                )
            ),
            "savings_chart": _svg(
                hbar_chart(
                    [
                        Bar(s.name, s.reclaimable_bytes + s.reclaimed_bytes, s.reclaimed_bytes)
                        for s in money.by_department
                    ],
                    value_format=si_bytes,
                    legend=("identified for removal", "reclaimed"),
                    label_width=110,
                )
            ),
            "statuses": RemediationTask.Status.choices,
            "cost_per_gb_month": settings.PROVENA_STORAGE_COST_PER_GB_MONTH,
            "licence_fee": settings.PROVENA_LICENCE_FEE_PER_FILE_YEAR,
        },
    )


def _list_context(request: HttpRequest, params) -> dict:
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
        "severities": RemediationTask.Severity.choices,
        "owners": _owners(user),
        "can_assign": user.has_perm("remediation.assign_remediationtask"),
        "can_waive": user.has_perm("remediation.waive_remediationtask"),
    }


def _owners(user: User):
    """Return the people tasks may be given to: active users the user's departments hold."""
    people = User.objects.filter(is_active=True).select_related("department")
    if not is_organisation_wide(user=user):
        people = people.filter(department_id=user.department_id)
    return people.order_by("username")


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_list(request: HttpRequest) -> HttpResponse:
    """List tasks with filters and bulk actions (assign, reschedule, waive)."""
    return render(request, "remediation/task_list.html", _list_context(request, request.GET))


@login_required
@require_POST
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_bulk(request: HttpRequest) -> HttpResponse:
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
                messages.success(request, f"{data['action'].capitalize()}: {changed} task(s).")
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


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell starting with these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def task_csv(request: HttpRequest) -> HttpResponse:
    """Export the filtered tasks as CSV, one row per task."""
    day = today()
    tasks = tasks_filtered(tasks=tasks_visible_to(user=request.user), params=request.GET, day=day)
    tasks = search_text(tasks, request.GET.get("q", ""))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="remediation-tasks-{day}.csv"'
    writer = csv.writer(response)
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
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _task_context(request: HttpRequest, task: RemediationTask) -> dict:
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
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one task: the copy, the decision, the due date, its history and evidence."""
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=pk)
    return render(request, "remediation/task_detail.html", _task_context(request, task))


@login_required
@require_POST
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
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
            messages.success(request, f"Task {task.pk} is {task.get_status_display()}.")
            return redirect("remediation-task", pk=task.pk)
    context = _task_context(request, task)
    context["errors"] = errors
    return render(request, "remediation/task_detail.html", context, status=400)


# --- execution -------------------------------------------------------------------------------


@login_required
@permission_required("remediation.view_remediationtask", raise_exception=True)
def execution(request: HttpRequest) -> HttpResponse:
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


def _execution_context(request: HttpRequest, source, **extra) -> dict:
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
def execution_source(request: HttpRequest, name: str) -> HttpResponse:
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
            state = "on" if action == "enable" else "off"
            messages.success(request, f"Execution is {state} for {source.name}.")
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
def quarantine(request: HttpRequest) -> HttpResponse:
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


def _quarantine_context(request: HttpRequest, page, state: str, **extra) -> dict:
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
def quarantine_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
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
        request, f"Restored {entry.source.name}:{entry.original_path}; its task is open again."
    )
    return redirect("remediation-quarantine")


@login_required
@require_POST
def quarantine_purge_view(request: HttpRequest) -> HttpResponse:
    """Purge the quarantined files past the retention period (or show which, as a dry run)."""
    dry_run = request.POST.get("dry_run") == "1"
    result = quarantine_purge(user=request.user, dry_run=dry_run)
    entries = quarantine_visible_to(user=request.user).filter(
        state=QuarantineEntry.State.QUARANTINED
    )
    page = Paginator(entries, TASKS_PER_PAGE).get_page(1)
    context = _quarantine_context(request, page, "quarantined", purge=result, purge_dry_run=dry_run)
    return render(request, "remediation/quarantine.html", context)


# --- disposal --------------------------------------------------------------------------------


@login_required
@permission_required("remediation.add_disposaldecision", raise_exception=True)
def asset_dispose(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview a duplicate-disposal decision on an asset (GET) and make it (POST)."""
    asset = get_object_or_404(assets_visible_to(user=request.user), pk=pk)
    raw_keep = request.POST.get("keep") or request.GET.get("keep") or ""
    keep = None
    if raw_keep.isdigit():
        keep = Copy.objects.filter(pk=int(raw_keep), rendition__asset=asset).first()
    errors: list[str] = []
    if request.method == "POST":
        try:
            decision = disposal_decide(
                asset=asset,
                decided_by=request.user,
                reason=request.POST.get("reason", ""),
                keep=keep,
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            tasks = tasks_for_origin(origin=decision)
            messages.success(
                request,
                f"Disposal decision {decision.pk} recorded: {tasks.count()} remediation "
                "task(s) created.",
            )
            label = tasks.values_list("origin_label", flat=True).first() or ""
            query = QueryDict(mutable=True)
            query["decision"] = label
            return redirect(f"{reverse('remediation-tasks')}?{query.urlencode()}")
    plan = disposal_plan(asset=asset, keep=keep)
    present = (
        Copy.objects.filter(rendition__asset=asset, state=Copy.State.PRESENT)
        .select_related("source")
        .order_by("source__name", "path")
    )
    return render(
        request,
        "remediation/dispose.html",
        {"asset": asset, "plan": plan, "present": present, "errors": errors},
        status=400 if errors else 200,
    )
