"""The "Before a merge" page: upload a partner's fingerprint bundle, get the signed report."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from governance.formatting import si_bytes
from governance.http import AuthenticatedRequest
from inventory.bundles.format import BundleError
from inventory.selectors.visibility import sources_visible_to
from reports.forms import MergeCompareForm
from reports.services import ReportFailed, ReportRefused
from reports.services.bundles import archive_compare, bundle_open
from reports.services.merge import merge_report_build

# Multipart framing around the file is small; anything far beyond the limit is refused unread.
_UPLOAD_SLACK = 64 * 1024


def _too_large_message() -> str:
    return (
        f"The bundle is larger than {si_bytes(settings.PROVENA_BUNDLE_MAX_BYTES)}, the most this "
        "page accepts (setting PROVENA_BUNDLE_MAX_BYTES); compare it from a terminal with "
        "manage.py compare_archive."
    )


@login_required
@permission_required("reports.build_report", raise_exception=True)
def merge_compare(request: AuthenticatedRequest) -> HttpResponse:
    """Compare an uploaded bundle with the user's sources and build the merge-readiness report."""
    visible = sources_visible_to(user=request.user)
    context: dict = {"limit": settings.PROVENA_BUNDLE_MAX_BYTES}
    if request.method != "POST":
        context["form"] = MergeCompareForm(sources=visible)
        return render(request, "reports/merge.html", context)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.PROVENA_BUNDLE_MAX_BYTES + _UPLOAD_SLACK:
        context.update(form=MergeCompareForm(sources=visible), error=_too_large_message())
        return render(request, "reports/merge.html", context, status=413)
    form = MergeCompareForm(request.POST, request.FILES, sources=visible)
    context["form"] = form
    if not form.is_valid():
        context["error"] = "Choose a fingerprint bundle and sources you can see."
        return render(request, "reports/merge.html", context, status=400)
    upload = form.cleaned_data["bundle"]
    if upload.size > settings.PROVENA_BUNDLE_MAX_BYTES:
        context["error"] = _too_large_message()
        return render(request, "reports/merge.html", context, status=413)
    names = form.cleaned_data["sources"]
    sources = visible.filter(name__in=names) if names else visible
    try:
        bundle = bundle_open(upload)
        comparison = archive_compare(bundle=bundle, sources=sources)
        report = merge_report_build(
            comparison=comparison,
            bundle_file=upload.name or "bundle.zip",
            sign=form.cleaned_data["sign"],
            user=request.user,
        )
    except BundleError as exc:
        context["error"] = f"{upload.name}: {exc}"
        return render(request, "reports/merge.html", context, status=400)
    except (ReportRefused, ReportFailed) as exc:
        context["error"] = str(exc)
        return render(request, "reports/merge.html", context, status=400)
    messages.success(request, f"Merge-readiness report {report.number} is ready.")
    return redirect("report-detail", number=report.number)
