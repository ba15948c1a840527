"""Pages over assets: the list, the asset page (lineage, copies, master, catalogue, licences,
provenance) and the forms behind it, and the catalogue upload. Thin views on services."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance.http import AuthenticatedRequest
from governance.models import Department
from inventory.master_rule import describe_rule
from inventory.models import Asset, CatalogueImportJob, Licence, Rendition, Supersession
from inventory.selectors.assets import (
    AssetMaster,
    Lineage,
    asset_copies,
    asset_lineage,
    asset_master,
    asset_masters,
    asset_supersessions,
    asset_timeline,
    asset_writable_by,
    assets_in_sources,
    assets_search,
    assets_visible_to,
)
from inventory.selectors.groups import MemberScope, retired_rendition_ids
from inventory.selectors.licences import (
    LICENCE_STATES,
    assets_by_licence_state,
    licence_state,
    licence_writable_by,
    licences_visible_to,
    today,
)
from inventory.selectors.visibility import (
    copies_visible_to,
    member_scope_for,
    sources_visible_to,
)
from inventory.services.assets import (
    asset_catalogue_update,
    asset_master_set,
    asset_split,
    assets_merge,
    rendition_supersede,
    supersession_withdraw,
)
from inventory.services.catalogue import (
    COLUMNS,
    TooManyRows,
    catalogue_import,
    catalogue_rows_check,
)
from inventory.services.catalogue_jobs import catalogue_job_create
from inventory.services.licences import licence_attach, licence_detach
from inventory.views.lineage_drawing import EdgeSpec, LineageDrawing, NodeSpec, lineage_drawing

ASSETS_PER_PAGE = 40


def _filtered_assets(request: AuthenticatedRequest) -> QuerySet[Asset]:
    params = request.GET
    assets = assets_visible_to(user=request.user)
    sources = sources_visible_to(user=request.user)
    if params.get("department"):
        assets = assets_in_sources(
            assets=assets, sources=sources.filter(department__code=params["department"])
        )
    if params.get("source"):
        assets = assets_in_sources(assets=assets, sources=sources.filter(name=params["source"]))
    if params.get("licence") in LICENCE_STATES:
        assets = assets_by_licence_state(assets=assets, state=params["licence"], user=request.user)
    if params.get("q"):
        assets = assets_search(assets=assets, text=params["q"])
    return assets


def _master_shown(master: AssetMaster, scope: MemberScope) -> bool:
    """Return whether the reader may see the master's path (else it is named by department)."""
    return master.copy is None or scope.shows(master.copy)


@login_required
@permission_required("inventory.view_asset", raise_exception=True)
def asset_list(request: AuthenticatedRequest) -> HttpResponse:
    """List assets, filterable by department, source and licence state, searchable by title
    or catalogue number."""
    assets = (
        _filtered_assets(request)
        .prefetch_related(
            "catalogue_numbers",
            Prefetch("licences", queryset=Licence.objects.order_by("start")),
        )
        .order_by("pk")
    )
    page = Paginator(assets, ASSETS_PER_PAGE).get_page(request.GET.get("page"))
    masters = asset_masters(assets=page.object_list)
    day = today()
    scope = member_scope_for(user=request.user)
    rows = [
        {
            "asset": asset,
            "master": masters[asset.pk],
            # A master in another department's source is named as such, not by its path.
            "master_shown": _master_shown(masters[asset.pk], scope),
            "licence_state": licence_state(list(asset.licences.all()), day),
        }
        for asset in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    sources = sources_visible_to(user=request.user)
    return render(
        request,
        "inventory/asset_list.html",
        {
            "page": page,
            "rows": rows,
            "params": request.GET,
            "query": query.urlencode(),
            "sources": sources,
            "departments": Department.objects.filter(sources__in=sources).distinct(),
            "licence_states": LICENCE_STATES,
        },
    )


def _drawing(lineage: Lineage, visible_renditions: set[int]) -> LineageDrawing:
    # A thumbnail is served only to users who see a copy of its rendition: draw no broken
    # image for versions held only by other departments.
    nodes = [
        NodeSpec(
            id=n.rendition.pk,
            title=f"{n.rendition.format} {n.rendition.width}×{n.rendition.height}",
            subtitle=(
                f"{n.present_copies} of {n.copies} cop{'y' if n.copies == 1 else 'ies'} present"
            ),
            master=n.master,
            retired=n.retired,
            thumbnail=bool(n.rendition.thumbnail) and n.rendition.pk in visible_renditions,
        )
        for n in lineage.nodes
    ]
    edges = [EdgeSpec(e.kind, e.start, e.end, e.label) for e in lineage.edges]
    return lineage_drawing(nodes, edges)


@login_required
@permission_required("inventory.view_asset", raise_exception=True)
def asset_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Show one photograph: lineage graph, copies, master, catalogue, licences, provenance."""
    asset = get_object_or_404(assets_visible_to(user=request.user), pk=pk)
    user = request.user
    master = asset_master(asset=asset)
    lineage = asset_lineage(asset=asset, master_rendition_id=master.rendition_id)
    visible_sources = sources_visible_to(user=user)
    copies = list(asset_copies(asset=asset).filter(source__in=visible_sources))
    hidden = asset_copies(asset=asset).exclude(source__in=visible_sources).count()
    retired = retired_rendition_ids(r.rendition.pk for r in lineage.nodes)
    retired_copy_ids = {copy.pk for copy in copies if copy.rendition_id in retired}
    day = today()
    licences = list(asset.licences.prefetch_related("departments", "sources").order_by("start"))
    writable = asset_writable_by(user=user, asset=asset, master=master)
    can_licence = user.has_perm("inventory.change_licence")
    attachable = []
    if can_licence:
        attachable = [
            lic
            for lic in licences_visible_to(user=user).exclude(pk__in=[lic.pk for lic in licences])
            if licence_writable_by(user=user, licence=lic)
        ]
    return render(
        request,
        "inventory/asset_detail.html",
        {
            "asset": asset,
            "master": master,
            "master_rule": describe_rule(settings.PROVENA_MASTER_RULE),
            "master_shown": master.copy is None or member_scope_for(user=user).shows(master.copy),
            "lineage": lineage,
            "drawing": _drawing(
                lineage, {c.rendition_id for c in copies if c.rendition_id is not None}
            ),
            "copies": copies,
            "retired_copy_ids": retired_copy_ids,
            "master_copy_id": master.copy.pk if master.copy is not None else None,
            "hidden_copies": hidden,
            "present_copies": [c for c in copies if c.is_present and c.rendition_id],
            "renditions": lineage.nodes,
            "supersessions": asset_supersessions(asset=asset),
            "catalogue_numbers": asset.catalogue_numbers.all(),
            "licences": [(lic, lic.in_force_on(day)) for lic in licences],
            "licence_state": licence_state(licences, day),
            "attachable": attachable,
            "timeline": asset_timeline(asset=asset, user=user),
            "can_set_master": writable and user.has_perm("inventory.set_master"),
            "can_change": writable and user.has_perm("inventory.change_asset"),
            "can_licence": can_licence,
            "catalogue_fields": [(name, getattr(asset, name)) for name in Asset.CATALOGUE_FIELDS],
        },
    )


def _visible_asset(request: AuthenticatedRequest, pk: int) -> Asset:
    return get_object_or_404(assets_visible_to(user=request.user), pk=pk)


def _done(
    request: HttpRequest, pk: int, action: Callable[[], object], success: str
) -> HttpResponse:
    """Run a service; show its validation errors as messages; back to the asset page."""
    try:
        result = action()
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("asset-detail", pk=pk)
    messages.success(request, success)
    target = result.pk if isinstance(result, Asset) else pk
    if not Asset.objects.filter(pk=target).exists():
        target = pk
    return redirect("asset-detail", pk=target)


@login_required
@require_POST
def asset_set_master(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    raw = request.POST.get("copy", "")
    copy = None
    if raw != "rule":
        copy = get_object_or_404(copies_visible_to(user=request.user), pk=_int(raw))
    return _done(
        request,
        pk,
        lambda: asset_master_set(
            asset=asset, copy=copy, user=request.user, reason=request.POST.get("reason", "")
        ),
        "Master recorded." if copy else "The master rule chooses the master again.",
    )


@login_required
@require_POST
def asset_merge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    other = get_object_or_404(
        assets_visible_to(user=request.user), pk=_int(request.POST.get("other"))
    )
    return _done(
        request,
        pk,
        lambda: assets_merge(
            asset=asset, other=other, user=request.user, reason=request.POST.get("reason", "")
        ),
        f"Assets {asset.pk} and {other.pk} merged.",
    )


@login_required
@require_POST
def asset_split_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    picked = [_int(v) for v in request.POST.getlist("renditions")]

    def split() -> Asset:
        return asset_split(
            asset=asset, renditions=picked, user=request.user, reason=request.POST.get("reason", "")
        )[0]

    return _done(request, pk, split, "Split recorded; the renditions regrouped.")


@login_required
@require_POST
def asset_supersede(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    newer = get_object_or_404(Rendition, pk=_int(request.POST.get("newer")), asset=asset)
    older = get_object_or_404(Rendition, pk=_int(request.POST.get("older")), asset=asset)
    return _done(
        request,
        pk,
        lambda: rendition_supersede(
            asset=asset,
            newer=newer,
            older=older,
            user=request.user,
            reason=request.POST.get("reason", ""),
        ),
        f"Rendition {newer.pk} supersedes {older.pk}; {older.pk} is retired.",
    )


@login_required
@require_POST
def asset_supersession_withdraw(
    request: AuthenticatedRequest, pk: int, supersession: int
) -> HttpResponse:
    asset = _visible_asset(request, pk)
    statement = get_object_or_404(Supersession, pk=supersession, asset=asset)
    return _done(
        request,
        pk,
        lambda: supersession_withdraw(
            supersession=statement, user=request.user, reason=request.POST.get("reason", "")
        ),
        f"Withdrawn: rendition {statement.older_id} is no longer retired.",
    )


@login_required
@require_POST
def asset_catalogue(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    fields = {name: request.POST.get(name, "") for name in Asset.CATALOGUE_FIELDS}
    scheme = request.POST.get("scheme", "").strip()
    number = request.POST.get("number", "").strip()
    numbers = [(scheme, number)] if scheme and number else []
    return _done(
        request,
        pk,
        lambda: asset_catalogue_update(
            asset=asset, user=request.user, fields=fields, numbers=numbers
        ),
        "Catalogue record saved.",
    )


@login_required
@require_POST
def asset_licence(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asset = _visible_asset(request, pk)
    licence = get_object_or_404(
        licences_visible_to(user=request.user), pk=_int(request.POST.get("licence"))
    )
    if request.POST.get("action") == "detach":
        return _done(
            request,
            pk,
            lambda: licence_detach(licence=licence, asset=asset, user=request.user),
            f"Licence {licence} detached.",
        )
    return _done(
        request,
        pk,
        lambda: licence_attach(licence=licence, asset=asset, user=request.user),
        f"Licence {licence} attached.",
    )


def _int(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return 0


@login_required
@permission_required("inventory.change_asset", raise_exception=True)
def catalogue_upload(request: AuthenticatedRequest) -> HttpResponse:
    """Upload a catalogue CSV: check it (dry run) or import it, all rows or none."""
    report = None
    error = ""
    limit = settings.PROVENA_CATALOGUE_MAX_BYTES
    if request.method == "POST":
        upload = request.FILES.get("file")
        # Uploaded files always carry a name and a size; the stubs allow None for any File.
        name, size = (upload.name or "", upload.size or 0) if upload is not None else ("", 0)
        if upload is None:
            error = "choose a CSV file to upload"
        elif not name.lower().endswith(".csv"):
            error = f"{name} is not a .csv file; export the catalogue as CSV (UTF-8)"
        elif size > limit:
            error = f"{name} is {size:,} bytes; the limit is {limit:,}"
        else:
            data = upload.read()
            dry_run = request.POST.get("dry_run") == "1"
            max_rows = settings.PROVENA_CATALOGUE_MAX_ROWS
            # Lines bound rows from above (a quoted cell may span lines): refuse early, and
            # hand a file that may be large to a background job rather than hold the request.
            lines = data.count(b"\n") + 1
            if lines - 1 > settings.PROVENA_CATALOGUE_BACKGROUND_ROWS:
                try:
                    catalogue_rows_check(data=data, max_rows=max_rows)
                except TooManyRows as exc:
                    error = f"{upload.name}: {exc}"
                else:
                    job = catalogue_job_create(
                        data=data, user=request.user, name=name, dry_run=dry_run
                    )
                    return redirect("catalogue-job", pk=job.pk)
            else:
                try:
                    report = catalogue_import(
                        data=data,
                        user=request.user,
                        dry_run=dry_run,
                        name=name,
                        max_rows=max_rows,
                    )
                except TooManyRows as exc:
                    error = f"{upload.name}: {exc}"
    status = 400 if error or (report is not None and not report.ok) else 200
    return render(
        request,
        "inventory/catalogue_upload.html",
        {"report": report, "error": error, "columns": COLUMNS, "limit": limit},
        status=status,
    )


@login_required
@permission_required("inventory.change_asset", raise_exception=True)
def catalogue_job(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a background catalogue import: its progress, then what it wrote or why not."""
    job = get_object_or_404(CatalogueImportJob, pk=pk, created_by=request.user)
    return render(request, "inventory/catalogue_job.html", {"job": job})
