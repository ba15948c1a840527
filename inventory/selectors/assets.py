"""Reads over assets: visibility, the effective master, lineage, the provenance timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from governance.chunks import chunked
from governance.models import AuditEvent, User
from governance.roles import is_organisation_wide
from inventory.models import (
    Asset,
    CatalogueNumber,
    Copy,
    Match,
    Rendition,
    Source,
    Supersession,
)
from inventory.selectors.groups import (
    chosen_masters,
    order_for_master,
    retired_rendition_ids,
)
from inventory.selectors.visibility import sources_visible_to

TIMELINE_LIMIT = 300


def assets_visible_to(*, user: User) -> QuerySet[Asset]:
    """Return the assets with a copy (in any state) in a source the user may see."""
    if is_organisation_wide(user=user):
        return Asset.objects.all()
    visible = Copy.objects.filter(
        rendition__asset=OuterRef("pk"), source__in=sources_visible_to(user=user)
    )
    return Asset.objects.filter(Exists(visible))


def asset_copies(*, asset: Asset) -> QuerySet[Copy]:
    """Return every copy of the asset's renditions, whatever its state."""
    return (
        Copy.objects.filter(rendition__asset=asset)
        .select_related("source__department", "rendition")
        .order_by("source__name", "path")
    )


def asset_source_id(asset_id: int) -> int | None:
    """Return a source that holds the asset (its chosen master's, else its first copy's), for
    the audit log's department scoping."""
    chosen = (
        Asset.objects.filter(pk=asset_id, master_copy__isnull=False)
        .values_list("master_copy__source_id", flat=True)
        .first()
    )
    if chosen is not None:
        return chosen
    return (
        Copy.objects.filter(rendition__asset_id=asset_id)
        .order_by("pk")
        .values_list("source_id", flat=True)
        .first()
    )


def asset_source_ids(asset_ids: list[int]) -> dict[int, int | None]:
    """Return asset_source_id() of many assets, a few queries per 500 assets."""
    found: dict[int, int | None] = {}
    for chunk in chunked(asset_ids, 500):
        found.update(
            Asset.objects.filter(pk__in=chunk, master_copy__isnull=False).values_list(
                "pk", "master_copy__source_id"
            )
        )
        rest = [pk for pk in chunk if pk not in found]
        rows = (
            Copy.objects.filter(rendition__asset_id__in=rest)
            .order_by("-pk")
            .values_list("rendition__asset_id", "source_id")
        )
        found.update(dict(rows))  # the lowest pk is written last and wins, as in asset_source_id
    return {pk: found.get(pk) for pk in asset_ids}


def chosen_master_problem(asset: Asset) -> str | None:
    """Return why the asset's chosen master no longer holds, or None while it does."""
    if not asset.master_chosen:
        return None
    copy = None
    if asset.master_copy_id is not None:
        copy = (
            Copy.objects.filter(pk=asset.master_copy_id)
            .values("state", "rendition_id", "rendition__asset_id", "source__name", "path")
            .first()
        )
    if copy is None:
        return "the chosen master copy was deleted with its source"
    where = f"{copy['source__name']}:{copy['path']}"
    if copy["state"] != Copy.State.PRESENT:
        return f"the chosen master copy {where} is {copy['state']}"
    if copy["rendition_id"] != asset.master_rendition_id:
        return f"the chosen master copy {where} changed: it no longer shows the chosen version"
    if copy["rendition__asset_id"] != asset.pk:
        return f"the chosen master copy {where} no longer belongs to this photograph"
    return None


@dataclass(slots=True)
class AssetMaster:
    """An asset's master as shown: the copy, on what basis, and whether it needs review."""

    copy: Copy | None  # None: the asset has no present copy
    basis: str  # "rule", "chosen", "fallback" (see DuplicateGroup.master_basis) or "none"
    needs_review: bool = False
    review_reason: str = ""

    @property
    def rendition_id(self) -> int | None:
        return self.copy.rendition_id if self.copy else None


def asset_masters(*, assets: Iterable[Asset]) -> dict[int, AssetMaster]:
    """Return the master of each asset (one query for the copies, one for the matches)."""
    by_pk = {a.pk: a for a in assets}
    copies = list(
        Copy.objects.filter(state=Copy.State.PRESENT, rendition__asset__in=list(by_pk))
        .select_related("source__department", "rendition")
        .order_by("pk")
    )
    by_asset: dict[int | None, list[Copy]] = defaultdict(list)
    rendition_ids: set[int] = set()
    for copy in copies:
        rendition = copy.decoded_rendition
        by_asset[rendition.asset_id].append(copy)
        rendition_ids.add(rendition.pk)
    retired = retired_rendition_ids(rendition_ids)
    choices = chosen_masters(by_pk)
    masters = {}
    for pk, asset in by_pk.items():
        bucket = by_asset.get(pk, [])
        basis = order_for_master(bucket, retired=retired, choice=choices.get(pk))
        master = AssetMaster(copy=bucket[0] if bucket else None, basis=basis if bucket else "none")
        if asset.master_needs_review:
            master.needs_review, master.review_reason = True, asset.master_review_reason
        elif asset.master_chosen and (basis != "chosen"):
            # Not flagged yet (the check runs after scans and regrouping): say so now.
            master.needs_review = True
            master.review_reason = (
                chosen_master_problem(asset) or "the chosen master is unavailable"
            )
        masters[pk] = master
    return masters


def asset_master(*, asset: Asset) -> AssetMaster:
    """Return the asset's master as shown (see asset_masters)."""
    return asset_masters(assets=[asset])[asset.pk]


def asset_department_id(*, asset: Asset, master: AssetMaster | None = None) -> int | None:
    """Return the department answerable for the asset: its master copy's source's."""
    master = master or asset_master(asset=asset)
    if master.copy is not None:
        return master.copy.source.department_id
    return (
        Copy.objects.filter(rendition__asset=asset)
        .order_by("pk")
        .values_list("source__department_id", flat=True)
        .first()
    )


def asset_writable_by(*, user: User, asset: Asset, master: AssetMaster | None = None) -> bool:
    """Return whether the user's department answers for the asset (organisation roles: all).

    Role permissions are checked separately; this is the department rule.
    """
    if is_organisation_wide(user=user):
        return True
    if user.department_id is None:
        return False
    return asset_department_id(asset=asset, master=master) == user.department_id


# --- lineage ------------------------------------------------------------------------------------


@dataclass(slots=True)
class LineageNode:
    """One rendition of the asset in its lineage graph."""

    rendition: Rendition
    present_copies: int
    copies: int
    retired: bool
    master: bool
    derivative: bool


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """derived_from (child -> original), supersedes (newer -> older) or related (no known
    direction: a match whose original the evidence could not tell)."""

    kind: str
    start: int  # rendition ids
    end: int
    label: str
    reviewed: bool = False


@dataclass(slots=True)
class Lineage:
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[LineageEdge] = field(default_factory=list)

    @property
    def derived_from(self) -> list[LineageEdge]:
        return [e for e in self.edges if e.kind == "derived_from"]

    @property
    def supersedes(self) -> list[LineageEdge]:
        return [e for e in self.edges if e.kind == "supersedes"]


def asset_lineage(*, asset: Asset, master_rendition_id: int | None = None) -> Lineage:
    """Return the asset's renditions and the edges between them.

    derived_from edges run from each rendition to its parent (inventory.lineage, labelled with
    the relation of the match between them); supersedes edges are people's supersessions.
    """
    renditions = list(asset.renditions.select_related("parent_match").order_by("pk"))
    ids = {r.pk for r in renditions}
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for rid, state in Copy.objects.filter(rendition__in=ids).values_list("rendition_id", "state"):
        counts[rid][1] += 1
        if state == Copy.State.PRESENT:
            counts[rid][0] += 1
    retired = retired_rendition_ids(ids)
    lineage = Lineage()
    derivatives: set[int] = set()
    for rendition in renditions:
        if rendition.parent_id is None or rendition.parent_id not in ids:
            continue
        match = rendition.parent_match
        relation = match.relation if match else "edited"
        reviewed = match is not None and match.status == Match.Status.CONFIRMED
        lineage.edges.append(
            LineageEdge("derived_from", rendition.pk, rendition.parent_id, relation, reviewed)
        )
        derivatives.add(rendition.pk)
    standing = Supersession.objects.filter(newer__in=ids, older__in=ids, withdrawn_at__isnull=True)
    for newer, older in standing.values_list("newer_id", "older_id"):
        lineage.edges.append(LineageEdge("supersedes", newer, older, "supersedes", True))
    for rendition in renditions:
        present, total = counts[rendition.pk]
        lineage.nodes.append(
            LineageNode(
                rendition=rendition,
                present_copies=present,
                copies=total,
                retired=rendition.pk in retired,
                master=rendition.pk == master_rendition_id,
                derivative=rendition.pk in derivatives,
            )
        )
    return lineage


def asset_supersessions(*, asset: Asset) -> QuerySet[Supersession]:
    """Return the supersessions recorded on the asset, standing and withdrawn, newest first."""
    return Supersession.objects.filter(asset=asset).select_related(
        "created_by", "withdrawn_by", "newer", "older"
    )


# --- provenance -------------------------------------------------------------------------------


def asset_timeline(*, asset: Asset, user: User, limit: int = TIMELINE_LIMIT) -> list[AuditEvent]:
    """Return the events on the asset, its renditions, its matches and the copies the user
    may see, newest first."""
    rendition_ids = list(asset.renditions.values_list("pk", flat=True))
    copy_ids = Copy.objects.filter(
        rendition__in=rendition_ids, source__in=sources_visible_to(user=user)
    ).values_list("pk", flat=True)
    match_ids = Match.objects.filter(
        Q(rendition_a__in=rendition_ids) | Q(rendition_b__in=rendition_ids)
    ).values_list("pk", flat=True)
    on_objects = (
        Q(object_type="asset", object_id=str(asset.pk))
        | Q(object_type="rendition", object_id__in=[str(r) for r in rendition_ids])
        | Q(object_type="copy", object_id__in=[str(c) for c in copy_ids])
        | Q(object_type="match", object_id__in=[str(m) for m in match_ids])
    )
    # Events on the asset and its matches are the asset's, whichever source they name; copies
    # in sources the user may not see stay out.
    events = AuditEvent.objects.select_related("agent_user").filter(on_objects)
    return list(events.order_by("-seq")[:limit])


# --- lists ---------------------------------------------------------------------------------------


def assets_search(*, assets: QuerySet[Asset], text: str) -> QuerySet[Asset]:
    """Return the assets whose title or one of whose catalogue numbers contains the text."""
    text = text.strip()
    if not text:
        return assets
    numbered = CatalogueNumber.objects.filter(asset=OuterRef("pk"), number__icontains=text)
    return assets.filter(Q(title__icontains=text) | Exists(numbered))


def assets_in_sources(*, assets: QuerySet[Asset], sources: QuerySet[Source]) -> QuerySet[Asset]:
    """Return the assets with a present copy in one of the sources."""
    held = Copy.objects.filter(
        rendition__asset=OuterRef("pk"), state=Copy.State.PRESENT, source__in=sources
    )
    return assets.filter(Exists(held))
