"""The review queue and one match under review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from governance.http import AuthenticatedRequest
from inventory.models import Match
from inventory.selectors.review import matches_visible_to, review_queue, with_sides
from inventory.selectors.visibility import copies_visible_to
from inventory.services.review import match_decide


@login_required
@permission_required("inventory.view_match", raise_exception=True)
def review_list(request: AuthenticatedRequest) -> HttpResponse:
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
def review_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
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
                _("Decision recorded: %(a)s and %(b)s.")
                % {
                    "a": f"{match.rendition_a.format} {match.rendition_a.width}x"
                    f"{match.rendition_a.height}",
                    "b": f"{match.rendition_b.format} {match.rendition_b.width}x"
                    f"{match.rendition_b.height}",
                },
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
