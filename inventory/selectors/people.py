"""Reads about people in photographs: identifiability belongs to the photograph (docs/privacy.md).

If any rendition of an asset shows an identifiable person, every rendition and every copy of
that asset shows one: a 160 px web copy whose own face is too small for the detector's rule
is the same person as its master. Every page, image, report, case and export asks here.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils.module_loading import import_string

from inventory.models import Copy, Face, Match, Rendition
from inventory.pairs.boxes import SLACK, Box, Placement, Size, map_box

logger = logging.getLogger(__name__)

# Two readings of an old match (one verified before the evidence named its first picture)
# are told apart by the aspect ratio each implies; they must differ by more than this.
_ASPECT_TOLERANCE = 0.06


def upright_size(rendition: Rendition) -> Size:
    """Return the rendition's width and height as displayed (after EXIF orientation)."""
    if rendition.orientation in (5, 6, 7, 8):
        return rendition.height, rendition.width
    return rendition.width, rendition.height


def _people_assets() -> QuerySet[Rendition, Any]:
    return Rendition.objects.filter(identifiable_faces__gt=0, asset__isnull=False).values(
        "asset_id"
    )


def showing_people() -> Q:
    """Return the filter for renditions that show identifiable people (via their photograph)."""
    return Q(identifiable_faces__gt=0) | Q(asset_id__in=_people_assets())


def renditions_showing_people(*, among: Iterable[int] | None = None) -> set[int]:
    """Return the ids of renditions (of those given) that show identifiable people."""
    renditions = Rendition.objects.filter(showing_people())
    if among is not None:
        renditions = renditions.filter(pk__in=list(among))
    return set(renditions.values_list("pk", flat=True))


def shows_people(*, rendition: Rendition) -> bool:
    """Return whether the rendition shows identifiable people (via its photograph)."""
    if rendition.identifiable_faces:
        return True
    if rendition.asset_id is None:
        return False
    return Rendition.objects.filter(asset_id=rendition.asset_id, identifiable_faces__gt=0).exists()


def copies_showing_people(copies: QuerySet[Copy]) -> QuerySet[Copy]:
    """Return the copies that are personal-data holdings (their photograph shows people)."""
    return copies.filter(
        Q(rendition__identifiable_faces__gt=0) | Q(rendition__asset_id__in=_people_assets())
    )


def people_by_asset(*, asset_ids: Iterable[int] | QuerySet) -> dict[int, int]:
    """Return asset id -> identifiable people its photograph shows (assets with none left out).

    The rendition showing most of them counts (the master, as a rule): a crop shows fewer,
    and a copy shows the same people again, never more.
    """
    rows = (
        Rendition.objects.filter(
            asset_id__in=asset_ids if isinstance(asset_ids, QuerySet) else list(asset_ids),
            identifiable_faces__gt=0,
        )
        .values("asset_id")
        .annotate(people=Max("identifiable_faces"))
        .values_list("asset_id", "people")
    )
    return dict(rows)


@dataclass(slots=True)
class PersonalData:
    """The people of every photograph that shows some, and the copies redacted since."""

    people: dict[int, int]  # asset id -> identifiable people (assets without any left out)
    redacted: set[int]  # ids of copies whose redaction is verified


def personal_data_index() -> PersonalData:
    """Return who is shown where, for exports over many groups (two queries in all).

    Redactions are the privacy app's: the site names the reader in the setting
    PROVENA_REDACTED_COPIES (the inventory never imports privacy).
    """
    asset_ids = Rendition.objects.filter(identifiable_faces__gt=0, asset__isnull=False).values(
        "asset_id"
    )
    reader = settings.PROVENA_REDACTED_COPIES
    redacted = set(import_string(reader)()) if reader else set()
    return PersonalData(people=people_by_asset(asset_ids=asset_ids), redacted=redacted)


# --- where the faces are on each rendition ------------------------------------------------


@dataclass(slots=True)
class BlurPlan:
    """What to pixelate on a rendition for a viewer who may not see people."""

    boxes: list[Box] = field(default_factory=list)  # upright pixels of this rendition
    whole: bool = False  # a face of the photograph could not be placed: blur everything
    reason: str = ""


Step = Callable[..., Box | None]  # (box, slack=SLACK) -> the box on the next rendition


def _first_of(match_row: tuple, sizes: dict[int, Size], placement: Placement) -> int | None:
    """Return which rendition of the match was the verifier's first picture (None: unknown)."""
    a, b, evidence = match_row
    first = evidence.get("first")
    if first in (a, b):
        return first
    # Matches verified before the evidence said so: the reading whose implied aspect ratio
    # fits the other picture wins; when both fit and they differ, the match is not used.
    errors = {}
    for first_id, second_id in ((a, b), (b, a)):
        implied = placement.turned_aspect(sizes[first_id])
        actual = sizes[second_id][0] / sizes[second_id][1]
        errors[first_id] = abs(math.log(implied / actual))
    fits = [r for r, error in errors.items() if error <= _ASPECT_TOLERANCE]
    if len(fits) == 1:
        return fits[0]
    whole_frame = all(abs(v - round(v)) <= 0.02 for v in placement.frame)
    if len(fits) == 2 and whole_frame and placement.code not in ("r90", "r270"):
        return a  # both readings are the same map
    return None


def registration_steps(renditions: dict[int, Rendition]) -> dict[int, list[tuple[int, Step]]]:
    """Return, per rendition, the renditions a box can be carried to and how."""
    sizes = {pk: upright_size(r) for pk, r in renditions.items()}
    ids = list(renditions)
    # The matches that join the photograph (Match.joins_asset), between its own renditions.
    rows = (
        Match.objects.filter(rendition_a__in=ids, rendition_b__in=ids)
        .exclude(status=Match.Status.REJECTED)
        .exclude(tier=Match.Tier.POSSIBLE, status=Match.Status.PROPOSED)
        .values_list("rendition_a_id", "rendition_b_id", "evidence")
        .order_by("pk")
    )
    steps: dict[int, list[tuple[int, Step]]] = defaultdict(list)
    for a, b, evidence in rows:
        if min(*sizes[a], *sizes[b]) <= 0:
            continue
        placement = Placement.from_evidence(evidence or {})
        if placement is None:
            continue
        first = _first_of((a, b, evidence or {}), sizes, placement)
        if first is None:
            continue
        second = b if first == a else a
        for src, dst, forward in ((first, second, True), (second, first, False)):
            steps[src].append((dst, partial(_carry, placement, forward, sizes[src], sizes[dst])))
    return steps


def _carry(
    placement: Placement,
    forward: bool,
    from_size: Size,
    to_size: Size,
    box: Box,
    slack: float = SLACK,
) -> Box | None:
    return map_box(
        box,
        placement=placement,
        forward=forward,
        from_size=from_size,
        to_size=to_size,
        slack=slack,
    )


def registration_path(
    steps: dict[int, list[tuple[int, Step]]], start: int, goal: int
) -> list[Step] | None:
    """Return the steps from start to goal (breadth first: the fewest registrations)."""
    before: dict[int, tuple[int, Step] | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            path: list[Step] = []
            while before[here] is not None:
                here, step = before[here]  # type: ignore[misc]
                path.append(step)
            return path[::-1]
        for there, step in steps.get(here, []):
            if there not in before:
                before[there] = (here, step)
                queue.append(there)
    return None


def carry_boxes(boxes: list[Box], path: list[Step], *, slack: float = SLACK) -> list[Box | None]:
    """Return each box carried along the path (None: it falls outside a picture on the way)."""
    carried: list[Box | None] = []
    for box in boxes:
        here: Box | None = box
        for step in path:
            if here is None:
                break
            here = step(here, slack=slack)
        carried.append(here)
    return carried


def faces_of(rendition_ids: Iterable[int], *, identifiable_only: bool = False) -> dict[int, list]:
    """Return rendition id -> its stored face boxes (left, top, width, height)."""
    faces = Face.objects.filter(rendition_id__in=list(rendition_ids))
    if identifiable_only:
        faces = faces.filter(identifiable=True)
    found: dict[int, list[Box]] = defaultdict(list)
    for rid, *box in faces.order_by("pk").values_list(
        "rendition_id", "left", "top", "width", "height"
    ):
        found[rid].append((box[0], box[1], box[2], box[3]))
    return found


def blur_plan(*, rendition: Rendition) -> BlurPlan:
    """Return what to pixelate on the rendition so no identifiable person of its photograph shows.

    Its own faces, and the identifiable faces of every other rendition of the photograph
    carried through the verified registrations between them; a face that cannot be carried
    (no registration links the two) leaves the whole picture to be blurred, unless this
    rendition's own detection found at least as many people.
    """
    plan = BlurPlan(boxes=list(faces_of([rendition.pk])[rendition.pk]))
    if rendition.asset_id is None:
        return plan
    renditions = {r.pk: r for r in Rendition.objects.filter(asset_id=rendition.asset_id)}
    renditions.setdefault(rendition.pk, rendition)
    sources = [r for pk, r in renditions.items() if r.identifiable_faces and pk != rendition.pk]
    if not sources:
        return plan
    steps = registration_steps(renditions)
    people = faces_of([s.pk for s in sources], identifiable_only=True)
    for source in sorted(sources, key=lambda r: r.pk):
        path = registration_path(steps, source.pk, rendition.pk)
        if path is None:
            if source.identifiable_faces > rendition.identifiable_faces:
                plan.whole = True
                plan.reason = f"no registration places rendition {source.pk}'s faces here"
                logger.info("blur plan: rendition %s blurred whole (%s)", rendition.pk, plan.reason)
            continue
        plan.boxes.extend(b for b in carry_boxes(people[source.pk], path) if b is not None)
    return plan
