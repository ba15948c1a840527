"""Read the matches awaiting a human ruling."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce

from governance.models import User
from inventory.models import Copy, Match
from inventory.selectors.visibility import sources_visible_to


def matches_visible_to(*, user: User) -> QuerySet[Match]:
    """Return the matches whose two renditions both have a copy the user may see.

    A reviewer must see both images before ruling; a pair that crosses into another
    department's sources is for an organisation-wide reviewer.
    """
    visible = Copy.objects.filter(source__in=sources_visible_to(user=user))
    renditions = visible.values("rendition_id")
    return Match.objects.filter(
        rendition_a__in=renditions, rendition_b__in=renditions
    ).select_related("rendition_a", "rendition_b")


def with_sides(matches: QuerySet[Match], *, user: User) -> QuerySet[Match]:
    """Annotate each match with, per side (a_, b_), the present copies the user sees
    (`_copies`) and the source and path of the first of them (`_source`, `_path`)."""
    annotations: dict[str, BaseExpression] = {}
    for side in ("a", "b"):
        held = Copy.objects.filter(
            rendition=OuterRef(f"rendition_{side}"),
            state=Copy.State.PRESENT,
            source__in=sources_visible_to(user=user),
        )
        first = held.order_by("pk")
        annotations[f"{side}_path"] = Subquery(first.values("path")[:1])
        annotations[f"{side}_source"] = Subquery(first.values("source__name")[:1])
        annotations[f"{side}_copies"] = Coalesce(
            Subquery(held.order_by().values("rendition").annotate(n=Count("pk")).values("n")[:1]),
            0,
        )
    return matches.annotate(**annotations)


def review_queue(*, user: User) -> QuerySet[Match]:
    """Return the matches awaiting a person's decision, most certain first."""
    return (
        matches_visible_to(user=user)
        .filter(status=Match.Status.PROPOSED)
        .order_by("tier", "-score", "pk")
    )
