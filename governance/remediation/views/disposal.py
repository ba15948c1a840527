"""The duplicate-disposal decision page of one asset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from governance.http import AuthenticatedRequest
from governance.remediation.selectors.disposal import disposal_plan
from governance.remediation.selectors.tasks import (
    tasks_for_origin,
)
from governance.remediation.services.disposal import disposal_decide
from inventory.models import Copy
from inventory.selectors.assets import assets_visible_to
from inventory.selectors.visibility import member_scope_for


@login_required
@permission_required("remediation.add_disposaldecision", raise_exception=True)
def asset_dispose(request: AuthenticatedRequest, pk: int) -> HttpResponse:
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
                _("Disposal decision %(pk)s recorded: %(count)s remediation task(s) created.")
                % {"pk": decision.pk, "count": tasks.count()},
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
    # Copies in other departments' sources are counted, never listed (MemberScope).
    scope = member_scope_for(user=request.user)
    keep_shown = plan.keep is None or scope.shows(plan.keep)
    problem = plan.problem
    if plan.keep is not None and not keep_shown:
        problem = problem.replace(
            f"{plan.keep.source.name}:{plan.keep.path}", "a copy in another department"
        )
    hidden = [line for line in plan.lines if not scope.shows(line.copy)]
    return render(
        request,
        "remediation/dispose.html",
        {
            "asset": asset,
            "plan": plan,
            "problem": problem,
            "keep_shown": keep_shown,
            "lines": [line for line in plan.lines if scope.shows(line.copy)],
            "hidden_lines": len(hidden),
            "hidden_tasks": sum(1 for line in hidden if line.action),
            "present": [c for c in present if scope.shows(c)],
            "errors": errors,
        },
        status=400 if errors else 200,
    )
