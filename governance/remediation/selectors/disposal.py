"""Read the plan for disposing of an asset's redundant copies."""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.remediation.models import RemediationTask
from inventory.models import Asset, Copy, Rendition
from inventory.selectors.assets import asset_master
from inventory.selectors.groups import group_of_copies, retired_rendition_ids
from inventory.selectors.people import renditions_showing_people, shows_people


@dataclass(frozen=True, slots=True)
class DisposalLine:
    """One other copy of the asset: how it relates to the kept copy and what would happen."""

    copy: Copy
    relation: str
    action: str | None  # a RemediationTask.Action, or None: the copy stays
    why: str
    personal_data: bool

    @property
    def action_label(self) -> str:
        return str(RemediationTask.Action(self.action).label) if self.action else ""


@dataclass(slots=True)
class DisposalPlan:
    """What a disposal decision on an asset would do, copy by copy."""

    asset: Asset
    keep: Copy | None
    lines: list[DisposalLine] = field(default_factory=list)
    problem: str = ""  # why no decision can be made as things stand

    @property
    def tasks(self) -> list[DisposalLine]:
        return [line for line in self.lines if line.action]

    @property
    def reclaimable_bytes(self) -> int:
        return sum(line.copy.size for line in self.tasks)


def shows_personal_data(rendition: Rendition | None, *, people: set[int] | None = None) -> bool:
    """Return whether a rendition shows identifiable people (via its photograph) or carries
    personal metadata; people: the ids of renditions showing people, when already known."""
    if rendition is None:
        return False
    if getattr(rendition, "personal_signals", None):
        return True
    if people is not None:
        return rendition.pk in people
    return shows_people(rendition=rendition)


def disposal_plan(*, asset: Asset, keep: Copy | None = None) -> DisposalPlan:
    """Return the plan: keep one present copy; exact and same-pixel copies of it go, copies of
    superseded versions are retired, crops and other derivatives stay."""
    copies = list(
        Copy.objects.filter(rendition__asset=asset, state=Copy.State.PRESENT)
        .select_related("source__department", "rendition")
        .order_by("source__name", "path")
    )
    if keep is None:
        keep = asset_master(asset=asset).copy
    plan = DisposalPlan(asset=asset, keep=keep)
    if keep is None:
        plan.problem = f"asset {asset.pk} has no present copy to keep"
        return plan
    if keep.pk not in {c.pk for c in copies}:
        plan.problem = f"copy {keep.pk} is not a present copy of asset {asset.pk}"
        return plan
    keep = next(c for c in copies if c.pk == keep.pk)
    plan.keep = keep
    # Every copy of an asset has a rendition; the test says so to the type checker.
    rendition_ids = {c.rendition_id for c in copies if c.rendition_id is not None}
    people = renditions_showing_people(among=rendition_ids)
    retired = retired_rendition_ids(rendition_ids)
    if keep.rendition_id in retired:
        plan.problem = (
            f"the copy to keep ({keep.source.name}:{keep.path}) shows a retired version; "
            "keep a copy of the current version"
        )
        return plan
    Action = RemediationTask.Action
    group = group_of_copies(asset_id=asset.pk, copies=copies, keep=keep, retired=retired)
    members = {m.copy.pk: m for m in group.members}
    for copy in copies:
        if copy.pk == keep.pk:
            continue
        member = members[copy.pk]
        relation = member.relation
        personal = shows_personal_data(copy.rendition, people=people)
        if member.redundant and copy.rendition_id not in retired:
            # One copy of every rendition is kept (inventory.selectors.reclaimable).
            kept = (
                "the kept copy"
                if member.of is None or member.of == keep
                else f"{member.of.source.name}:{member.of.path}"
            )
            why = (
                f"the same bytes as {kept}"
                if relation == "exact_copy"
                else f"the same pixels as {kept} (only metadata differs)"
            )
            plan.lines.append(DisposalLine(copy, relation, Action.REMOVE_DUPLICATE, why, personal))
        elif relation == "cropped":
            plan.lines.append(
                DisposalLine(copy, relation, None, "a crop: editorially distinct, kept", personal)
            )
        elif copy.rendition_id in retired:
            plan.lines.append(
                DisposalLine(
                    copy,
                    relation,
                    Action.RETIRE_OLD_VERSION,
                    "a newer version supersedes this one",
                    personal,
                )
            )
        else:
            plan.lines.append(
                DisposalLine(
                    copy,
                    relation,
                    None,
                    f"{relation.replace('_', ' ')}: a derivative, not a copy; kept",
                    personal,
                )
            )
    return plan
