"""Report pages: the list and build form, a report's detail and download, verification."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from governance.formatting import si_bytes
from governance.http import AuthenticatedRequest
from inventory.selectors.visibility import sources_visible_to
from reports.forms import ReportBuildForm, ReportVerifyForm
from reports.models import Report
from reports.selectors.registry import report_visible_to, reports_visible_to
from reports.services import ReportRefused, report_build, report_path
from reports.verification import NotAPdf, report_file_verify

# Multipart framing around the file is small; anything far beyond the limit is refused unread.
_UPLOAD_SLACK = 64 * 1024


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the reports the user may see; build one (compliance officers, administrators)."""
    visible_sources = sources_visible_to(user=request.user)
    may_build = request.user.has_perm("reports.build_report")
    form = ReportBuildForm(request.POST or None, sources=visible_sources)
    if request.method == "POST":
        if not may_build:
            raise PermissionDenied("your role may not build reports")
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = report_build(
                    kind=data["kind"],
                    sources=data["sources"],
                    departments=data["departments"],
                    period=(data["date_from"], data["date_to"]),
                    sign=data["sign"],
                    user=request.user,
                    within=visible_sources,
                    background=True,
                )
            except ReportRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Report %(number)s is being built.") % {"number": report.number}
                )
                return redirect("report-detail", number=report.number)
    reports = reports_visible_to(user=request.user)
    return render(
        request,
        "reports/report_list.html",
        {
            "reports": reports[:100],
            "form": form,
            "may_build": may_build,
            "refresh": any(r.is_active for r in reports[:100]),
            "signing_configured": bool(settings.PROVENA_SIGNING_CERT),
        },
        status=400 if request.method == "POST" else 200,
    )


def _visible_report(request: AuthenticatedRequest, number: str) -> Report:
    report = report_visible_to(user=request.user, number=number)
    if report is None:
        raise Http404("no such report")
    return report


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    report = _visible_report(request, number)
    return render(
        request, "reports/report_detail.html", {"report": report, "refresh": report.is_active}
    )


@login_required
@permission_required("reports.view_report", raise_exception=True)
def report_download(request: AuthenticatedRequest, number: str) -> FileResponse:
    return report_pdf_response(_visible_report(request, number))


def report_pdf_response(report: Report) -> FileResponse:
    """Return the report's PDF as a download (404 while unfinished or when the file is gone)."""
    if not report.is_finished:
        raise Http404("the report is not finished")
    path = report_path(report)
    if not path.is_file():
        raise Http404("the report file is missing from PROVENA_MEDIA_ROOT/reports")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=report.file_name,
        content_type="application/pdf",
    )


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.PROVENA_REPORT_VERIFY_MAX_BYTES + _UPLOAD_SLACK


def too_large_message() -> str:
    limit = si_bytes(settings.PROVENA_REPORT_VERIFY_MAX_BYTES)
    return (
        f"The file is larger than {limit}, the most this page accepts "
        "(setting PROVENA_REPORT_VERIFY_MAX_BYTES)."
    )


@login_required
def report_verify(request: AuthenticatedRequest) -> HttpResponse:
    """Upload a report PDF and show whether it is authentic, unmodified and registered."""
    context: dict = {"limit": settings.PROVENA_REPORT_VERIFY_MAX_BYTES}
    if request.method != "POST":
        context["form"] = ReportVerifyForm()
        return render(request, "reports/verify.html", context)
    if _too_large(request):
        context.update(form=ReportVerifyForm(), error=too_large_message())
        return render(request, "reports/verify.html", context, status=413)
    form = ReportVerifyForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        context["error"] = "Choose a report PDF to verify."
        return render(request, "reports/verify.html", context, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > settings.PROVENA_REPORT_VERIFY_MAX_BYTES:
        context["error"] = too_large_message()
        return render(request, "reports/verify.html", context, status=413)
    data = upload.read()
    try:
        result = report_file_verify(data=data)
    except NotAPdf as exc:
        context["error"] = f"{upload.name}: {exc}. Upload the report's PDF file."
        return render(request, "reports/verify.html", context, status=400)
    context.update(result=result, file_name=upload.name, form=ReportVerifyForm())
    return render(request, "reports/verify.html", context)
