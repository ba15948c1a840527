"""Pages for the legal team: the privacy case queue, a case, decisions, consent, the view log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.errors import validation_text
from governance.http import AuthenticatedRequest
from governance.models import Department
from governance.privacy.forms.cases import ApprovalForm, ConsentForm, DecisionForm
from governance.privacy.models import ConsentRecord, PrivacyCase
from governance.privacy.selectors.cases import (
    ageing_counts,
    case_age_days,
    case_view,
    cases_queue,
    decision_awaiting_approval,
    personal_data_views,
)
from governance.privacy.services.cases import privacy_case_assign
from governance.privacy.services.decisions import (
    consent_record_create,
    privacy_case_decide,
    privacy_decision_review,
)
from governance.privacy.services.images import personal_view_record, rendition_image
from inventory.models import Rendition
from inventory.selectors.visibility import copies_visible_to, sources_visible_to

PER_PAGE = 40


def _visible_cases(request: AuthenticatedRequest) -> QuerySet[PrivacyCase]:
    visible_assets = copies_visible_to(user=request.user).values("rendition__asset_id")
    return PrivacyCase.objects.filter(asset_id__in=visible_assets)


@login_required
@permission_required("privacy.view_privacycase", raise_exception=True)
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    params = request.GET
    department = Department.objects.filter(code=params.get("department") or "").first()
    cases = cases_queue(
        status=params.get("status", ""),
        overdue=params.get("overdue") == "1",
        external={"1": True, "0": False}.get(params.get("external", "")),
        assigned_to=request.user if params.get("assigned") == "me" else None,
        unassigned=params.get("assigned") == "none",
        department_id=department.pk if department else None,
    ).filter(pk__in=_visible_cases(request).values("pk"))
    page = Paginator(cases, PER_PAGE).get_page(params.get("page"))
    today = timezone.localdate()
    rows = [
        {"case": c, "age": case_age_days(c, today), "days_left": (c.due_on - today).days}
        for c in page.object_list
    ]
    return render(
        request,
        "privacy/case_list.html",
        {
            "page": page,
            "rows": rows,
            "params": params,
            "statuses": PrivacyCase.Status.choices,
            "departments": Department.objects.filter(
                sources__in=sources_visible_to(user=request.user)
            ).distinct(),
            "ageing": ageing_counts(cases),
            "total": cases.count(),
        },
    )


def _case_or_404(request: AuthenticatedRequest, pk: int) -> PrivacyCase:
    case = get_object_or_404(PrivacyCase.objects.select_related("asset", "anchor"), pk=pk)
    if not _visible_cases(request).filter(pk=pk).exists():
        raise Http404("no such privacy case")
    return case


@login_required
@permission_required("privacy.view_privacycase", raise_exception=True)
def case_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    if case.status == PrivacyCase.Status.MERGED and case.merged_into_id:
        messages.info(
            request,
            _("Case %(pk)s was merged into case %(into)s.")
            % {"pk": case.pk, "into": case.merged_into_id},
        )
        return redirect("privacy-case", case.merged_into_id)
    view = case_view(case=case)
    return render(
        request,
        "privacy/case_detail.html",
        {
            "view": view,
            "case": case,
            "awaiting": decision_awaiting_approval(case),
            "decision_form": DecisionForm(),
            "approval_form": ApprovalForm(),
            "can_decide": request.user.has_perm("privacy.decide_privacycase"),
            "days_left": (case.due_on - timezone.localdate()).days,
        },
    )


@login_required
@permission_required("privacy.decide_privacycase", raise_exception=True)
@require_POST
def case_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The decision was not recorded: %(reason)s") % {"reason": _form_errors(form)}
        )
        return redirect("privacy-case", pk)
    data = form.cleaned_data
    try:
        decision = privacy_case_decide(
            case=case,
            outcome=data["outcome"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            consent=data["consent"],
            decided_by=request.user,
        )
    except ValidationError as exc:
        messages.error(
            request,
            _("The decision was not recorded: %(reason)s") % {"reason": validation_text(exc)},
        )
        return redirect("privacy-case", pk)
    if decision.needs_approval:
        messages.success(
            request, _("Decision recorded; it takes effect when a second reviewer approves.")
        )
    else:
        messages.success(
            request,
            _("Decision recorded: %(outcome)s.") % {"outcome": decision.get_outcome_display()},
        )
    return redirect("privacy-case", pk)


@login_required
@permission_required("privacy.decide_privacycase", raise_exception=True)
@require_POST
def case_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    decision = decision_awaiting_approval(case)
    form = ApprovalForm(request.POST)
    if decision is None:
        messages.error(request, _("No decision on this case is waiting for approval."))
        return redirect("privacy-case", pk)
    if not form.is_valid():
        messages.error(
            request, _("Nothing was recorded: %(reason)s") % {"reason": _form_errors(form)}
        )
        return redirect("privacy-case", pk)
    try:
        privacy_decision_review(
            decision=decision,
            approved=form.cleaned_data["approved"],
            reason=form.cleaned_data["reason"],
            decided_by=request.user,
        )
    except ValidationError as exc:
        messages.error(
            request, _("Nothing was recorded: %(reason)s") % {"reason": validation_text(exc)}
        )
        return redirect("privacy-case", pk)
    messages.success(request, _("Approved.") if form.cleaned_data["approved"] else _("Rejected."))
    return redirect("privacy-case", pk)


@login_required
@permission_required("privacy.decide_privacycase", raise_exception=True)
@require_POST
def case_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    assignee = request.user if request.POST.get("assignee") == "me" else None
    privacy_case_assign(case=case, assignee=assignee, assigned_by=request.user)
    messages.success(request, _("Assigned to you.") if assignee else _("Unassigned."))
    return redirect("privacy-case", pk)


def _form_errors(form: forms.BaseForm) -> str:
    return "; ".join(
        f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
    )


@login_required
@permission_required("privacy.view_personal_image", raise_exception=True)
def rendition_full_image(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Serve a large upright image of a personal-data rendition and log the look."""
    rendition = get_object_or_404(Rendition, pk=pk)
    if not copies_visible_to(user=request.user).filter(rendition=rendition).exists():
        raise Http404("no such image")
    try:
        data = rendition_image(rendition=rendition)
    except (FileNotFoundError, OSError) as exc:
        raise Http404(f"the image cannot be shown: {exc}") from exc
    personal_view_record(user=request.user, rendition=rendition, kind="image")
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required("privacy.view_consentrecord", raise_exception=True)
def consent_list(request: AuthenticatedRequest) -> HttpResponse:
    form = ConsentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("privacy.add_consentrecord"):
            return HttpResponse("only the legal role records consent", status=403)
        if form.is_valid():
            try:
                consent = consent_record_create(recorded_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, validation_text(exc))
            else:
                messages.success(
                    request,
                    _("Consent %(reference)s recorded.")
                    % {"reference": consent.document_reference},
                )
                return redirect("privacy-consents")
    consents = ConsentRecord.objects.select_related("recorded_by").order_by("-recorded_at")
    return render(
        request,
        "privacy/consent_list.html",
        {
            "form": form,
            "page": Paginator(consents, PER_PAGE).get_page(request.GET.get("page")),
            "today": timezone.localdate(),
        },
    )


@login_required
@permission_required("privacy.view_personaldataview", raise_exception=True)
def view_log(request: AuthenticatedRequest) -> HttpResponse:
    rendition = request.GET.get("rendition", "")
    views = personal_data_views(rendition_id=int(rendition) if rendition.isdigit() else None)
    return render(
        request,
        "privacy/view_log.html",
        {"page": Paginator(views, 100).get_page(request.GET.get("page")), "params": request.GET},
    )
