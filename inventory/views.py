"""Pages over the inventory: thin views on selectors and services."""

from __future__ import annotations

from itertools import islice

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inventory.models import Copy, Match, Rendition, Scan, Source
from inventory.selectors import (
    copies_visible_to,
    current_errors,
    duplicate_groups,
    figures_by_source,
    matches_visible_to,
    retired_rendition_ids,
    review_queue,
    sources_visible_to,
    with_retired,
    with_sides,
)
from inventory.services.launch import scan_launch
from inventory.services.review import match_decide
from inventory.services.scan import ScanAlreadyRunning, thumbnail_dir

GROUPS_PER_PAGE = 24


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show counts, bytes and reclaimable bytes per source and per department."""
    sources = sources_visible_to(user=request.user)
    figures = figures_by_source(sources=sources)
    departments: dict[str, dict] = {}
    for fig in figures:
        code = fig.source.department.code if fig.source.department else "(none)"
        row = departments.setdefault(
            code,
            {
                "department": code,
                "copies": 0,
                "bytes": 0,
                "duplicate_copies": 0,
                "near_duplicate_copies": 0,
                "reclaimable_bytes": 0,
                "problems": 0,
            },
        )
        row["copies"] += fig.copies
        row["bytes"] += fig.bytes
        row["duplicate_copies"] += fig.duplicate_copies
        row["near_duplicate_copies"] += fig.near_duplicate_copies
        row["reclaimable_bytes"] += fig.reclaimable_bytes
        row["problems"] += fig.problems
    totals = {
        "sources": len(figures),
        "copies": sum(f.copies for f in figures),
        "bytes": sum(f.bytes for f in figures),
        "duplicate_copies": sum(f.duplicate_copies for f in figures),
        "near_duplicate_copies": sum(f.near_duplicate_copies for f in figures),
        "reclaimable_bytes": sum(f.reclaimable_bytes for f in figures),
        "problems": sum(f.problems for f in figures),
    }
    recent_scans = Scan.objects.filter(source__in=sources).select_related("source")[:8]
    return render(
        request,
        "inventory/dashboard.html",
        {
            "figures": figures,
            "departments": sorted(departments.values(), key=lambda r: r["department"]),
            "totals": totals,
            "recent_scans": recent_scans,
        },
    )


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def source_list(request: HttpRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    return render(
        request,
        "inventory/source_list.html",
        {
            "figures": figures_by_source(sources=sources),
        },
    )


@login_required
@permission_required("inventory.view_source", raise_exception=True)
def source_detail(request: HttpRequest, name: str) -> HttpResponse:
    source = get_object_or_404(sources_visible_to(user=request.user), name=name)
    return render(
        request,
        "inventory/source_detail.html",
        {
            "source": source,
            "figures": figures_by_source(sources=Source.objects.filter(pk=source.pk))[0],
            "scans": source.scans.all()[:20],
            "running": source.scans.filter(status=Scan.Status.RUNNING).first(),
        },
    )


@login_required
@require_POST
def source_scan(request: HttpRequest, name: str) -> HttpResponse:
    source = get_object_or_404(sources_visible_to(user=request.user), name=name)
    if not request.user.has_perm("inventory.run_scan"):
        raise PermissionDenied("your role may not run scans")
    try:
        scan_launch(source=source, started_by=request.user)
    except ScanAlreadyRunning as exc:
        messages.error(request, str(exc))
    else:
        latest = source.scans.first()
        if latest is not None and latest.status == Scan.Status.FINISHED:
            messages.success(request, f"Scan #{latest.pk} of {source.name} finished.")
        else:
            messages.success(request, f"Scan of {source.name} started; progress shows below.")
    return redirect("source-detail", name=source.name)


@login_required
@permission_required("inventory.view_scan", raise_exception=True)
def scan_list(request: HttpRequest) -> HttpResponse:
    scans = Scan.objects.filter(source__in=sources_visible_to(user=request.user)).select_related(
        "source"
    )
    page = Paginator(scans, 50).get_page(request.GET.get("page"))
    return render(request, "inventory/scan_list.html", {"page": page})


@login_required
@permission_required("inventory.view_scan", raise_exception=True)
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scan = get_object_or_404(
        Scan.objects.filter(source__in=sources_visible_to(user=request.user)), pk=pk
    )
    errors = Paginator(scan.error_entries.all(), 100).get_page(request.GET.get("page"))
    return render(request, "inventory/scan_detail.html", {"scan": scan, "errors": errors})


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def copy_list(request: HttpRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    copies = with_retired(copies_visible_to(user=request.user)).order_by("source__name", "path")
    params = request.GET
    if params.get("source"):
        copies = copies.filter(source__name=params["source"])
    if params.get("state"):
        copies = copies.filter(state=params["state"])
    if params.get("format"):
        copies = copies.filter(rendition__format__iexact=params["format"])
    if params.get("q"):
        copies = copies.filter(Q(path__icontains=params["q"]) | Q(sha256=params["q"].lower()))
    if params.get("problems") == "1":
        copies = copies.exclude(problem="")
    page = Paginator(copies, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/copy_list.html",
        {
            "page": page,
            "sources": sources,
            "states": Copy.State.values,
            "formats": Rendition.objects.order_by("format")
            .values_list("format", flat=True)
            .distinct(),
            "params": params,
            "query": query.urlencode(),
        },
    )


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def copy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    copy = get_object_or_404(copies_visible_to(user=request.user), pk=pk)
    siblings = []
    if copy.rendition_id:
        siblings = (
            copies_visible_to(user=request.user)
            .filter(rendition__asset_id=copy.rendition.asset_id)
            .exclude(pk=copy.pk)
        )
    retired = bool(copy.rendition_id) and copy.rendition_id in retired_rendition_ids(
        [copy.rendition_id]
    )
    return render(
        request,
        "inventory/copy_detail.html",
        {"copy": copy, "siblings": siblings, "retired": retired},
    )


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def group_list(request: HttpRequest) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    if request.GET.get("source"):
        sources = sources.filter(name=request.GET["source"])
    try:
        page_number = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page_number = 1
    start = (page_number - 1) * GROUPS_PER_PAGE
    groups = list(islice(duplicate_groups(sources=sources), start, start + GROUPS_PER_PAGE + 1))
    return render(
        request,
        "inventory/group_list.html",
        {
            "groups": groups[:GROUPS_PER_PAGE],
            "page_number": page_number,
            "has_next": len(groups) > GROUPS_PER_PAGE,
            "sources": sources_visible_to(user=request.user),
            "selected_source": request.GET.get("source", ""),
        },
    )


@login_required
@permission_required("inventory.view_copy", raise_exception=True)
def group_detail(request: HttpRequest, asset_id: int) -> HttpResponse:
    sources = sources_visible_to(user=request.user)
    group = next(iter(duplicate_groups(sources=sources, asset_ids=[asset_id])), None)
    if group is None:
        raise Http404("no duplicate group for this asset")
    return render(request, "inventory/group_detail.html", {"group": group})


@login_required
@permission_required("inventory.view_rendition", raise_exception=True)
def thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    """Serve a rendition's thumbnail if the user may see one of its copies."""
    rendition = get_object_or_404(Rendition, pk=pk)
    if not copies_visible_to(user=request.user).filter(rendition=rendition).exists():
        raise Http404("no such thumbnail")
    if not rendition.thumbnail:
        raise Http404("this rendition has no thumbnail")
    path = (thumbnail_dir() / rendition.thumbnail).resolve()
    if not path.is_relative_to(thumbnail_dir().resolve()) or not path.is_file():
        raise Http404("thumbnail file is missing; rescan to regenerate it")
    if rendition.identifiable_faces:
        # Images of identifiable people: the legal role sees them (and each look is logged);
        # everyone else sees the faces pixelated. Never cached: the answer depends on the role.
        from governance.privacy.services.images import (
            masked_thumbnail,
            may_see_people,
            personal_view_record,
        )

        if may_see_people(request.user):
            personal_view_record(user=request.user, rendition=rendition, kind="thumbnail")
            response = FileResponse(path.open("rb"), content_type="image/jpeg")
        else:
            response = HttpResponse(
                masked_thumbnail(rendition=rendition, thumbnail=path), content_type="image/jpeg"
            )
        response["Cache-Control"] = "private, no-store"
        return response
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    # Not face-checked yet: the next look may have to be blurred, so the browser must ask again.
    checked = rendition.faces_checked_at is not None
    response["Cache-Control"] = "private, max-age=3600" if checked else "private, no-store"
    return response


@login_required
@permission_required("inventory.view_scanerror", raise_exception=True)
def scan_errors_overview(request: HttpRequest) -> HttpResponse:
    errors = current_errors(sources=sources_visible_to(user=request.user)).order_by(
        "scan__source__name", "path"
    )
    page = Paginator(errors, 100).get_page(request.GET.get("page"))
    return render(request, "inventory/error_list.html", {"page": page})


@login_required
@permission_required("inventory.view_match", raise_exception=True)
def review_list(request: HttpRequest) -> HttpResponse:
    """List the near-duplicate matches awaiting a decision (or decided ones, by filter)."""
    status = request.GET.get("status", Match.Status.PROPOSED)
    matches = matches_visible_to(user=request.user)
    if status in Match.Status.values:
        matches = matches.filter(status=status)
    if request.GET.get("tier") in Match.Tier.values:
        matches = matches.filter(tier=request.GET["tier"])
    if request.GET.get("relation"):
        matches = matches.filter(relation=request.GET["relation"])
    matches = with_sides(matches, user=request.user).order_by("tier", "-score", "pk")
    page = Paginator(matches, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inventory/review_list.html",
        {
            "page": page,
            "status": status,
            "params": request.GET,
            "query": query.urlencode(),
            "statuses": Match.Status.values,
            "tiers": [Match.Tier.PROBABLE, Match.Tier.POSSIBLE],
            "relations": Match.RELATIONS,
        },
    )


_COMPARED_FIELDS = (
    "capture_time", "camera_make", "camera_model", "artist", "copyright", "software",
    "description", "gps_latitude", "gps_longitude",
)  # fmt: skip


@login_required
@permission_required("inventory.view_match", raise_exception=True)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show two renditions side by side and take a reviewer's decision."""
    match = get_object_or_404(matches_visible_to(user=request.user), pk=pk)
    form_errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            match_decide(
                match=match,
                user=request.user,
                verdict=request.POST.get("verdict", ""),
                relation=request.POST.get("relation", ""),
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            form_errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        else:
            messages.success(
                request,
                f"Decision recorded: {match.rendition_a.format} {match.rendition_a.width}x"
                f"{match.rendition_a.height} and {match.rendition_b.format} "
                f"{match.rendition_b.width}x{match.rendition_b.height}.",
            )
            following = review_queue(user=request.user).exclude(pk=match.pk).first()
            if following is not None:
                return redirect("review-detail", pk=following.pk)
            return redirect("review-list")
    a, b = match.rendition_a, match.rendition_b
    visible = copies_visible_to(user=request.user)
    rows = [
        ("format", a.format, b.format),
        ("dimensions", f"{a.width} × {a.height}", f"{b.width} × {b.height}"),
        ("mode", a.mode, b.mode),
        *[(name.replace("_", " "), (a.metadata or {}).get(name), (b.metadata or {}).get(name))
          for name in _COMPARED_FIELDS],
    ]  # fmt: skip
    return render(
        request,
        "inventory/review_detail.html",
        {
            "match": match,
            "a": a,
            "b": b,
            "rows": rows,
            "copies_a": visible.filter(rendition=a),
            "copies_b": visible.filter(rendition=b),
            "decisions": match.decisions.select_related("decided_by"),
            "relations": [r for r in Match.RELATIONS if r != "similar"],
            "form_errors": form_errors,
            "post": request.POST if request.method == "POST" else {},
            "can_review": request.user.has_perm("inventory.review_match"),
        },
    )
