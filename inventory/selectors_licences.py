"""Reads over licences: who sees which, each asset's licence state, and the exposures.

A licence covers the copies held in the sources it lists and in the sources of the
departments it lists, from its start to its end (inclusive; no end: open-ended).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from governance.models import User
from inventory.models import Asset, Copy, Licence, LicenceAttachment
from inventory.selectors import is_organisation_wide, sources_visible_to
from inventory.selectors_assets import assets_visible_to

LICENCE_STATES = ("licensed", "unlicensed", "expired", "pending", "exposed")


def today() -> datetime.date:
    """Return today's date in the organisation's time zone."""
    return timezone.localdate()


def licences_visible_to(*, user: User) -> QuerySet[Licence]:
    """Return the licences covering the user's department or sources, attached to assets the
    user sees, or created by the user (all of them for organisation-wide roles)."""
    licences = Licence.objects.prefetch_related("departments", "sources")
    if is_organisation_wide(user=user):
        return licences
    attached = LicenceAttachment.objects.filter(
        licence=OuterRef("pk"), asset__in=assets_visible_to(user=user)
    )
    return licences.filter(
        Q(departments=user.department_id)
        | Q(sources__in=sources_visible_to(user=user))
        | Q(created_by=user)
        | Exists(attached)
    ).distinct()


def licence_writable_by(*, user: User, licence: Licence) -> bool:
    """Return whether the licence concerns only the user's department (organisation roles:
    every licence). Role permissions are checked separately."""
    if is_organisation_wide(user=user):
        return True
    if user.department_id is None:
        return False
    departments = {d.pk for d in licence.departments.all()}
    source_departments = {s.department_id for s in licence.sources.all()}
    if not departments and not source_departments:
        return licence.created_by_id == user.pk
    return departments | source_departments == {user.department_id}


def _in_force(day: datetime.date) -> Q:
    return Q(licence__start__lte=day) & (Q(licence__end__isnull=True) | Q(licence__end__gte=day))


def assets_by_licence_state(
    *, assets: QuerySet[Asset], state: str, user: User, day: datetime.date | None = None
) -> QuerySet[Asset]:
    """Return the assets in a licence state: licensed (a licence in force), unlicensed (no
    licence), expired (licences, all ended), pending (licences, none started yet) or exposed
    (see licence_exposures)."""
    day = day or today()
    attached = LicenceAttachment.objects.filter(asset=OuterRef("pk"))
    in_force = attached.filter(_in_force(day))
    ended = attached.filter(licence__end__lt=day)
    if state == "licensed":
        return assets.filter(Exists(in_force))
    if state == "unlicensed":
        return assets.filter(~Exists(attached))
    if state == "expired":
        return assets.filter(Exists(ended)).exclude(Exists(in_force))
    if state == "pending":
        return assets.filter(Exists(attached)).exclude(Exists(in_force)).exclude(Exists(ended))
    if state == "exposed":
        return assets.filter(pk__in=licence_exposures(user=user, day=day).asset_ids)
    raise ValueError(f"unknown licence state {state!r}; use one of {', '.join(LICENCE_STATES)}")


def licence_state(licences: list[Licence], day: datetime.date) -> str:
    """Return the licence state of an asset holding these licences (not "exposed")."""
    if not licences:
        return "unlicensed"
    if any(lic.in_force_on(day) for lic in licences):
        return "licensed"
    if any(lic.end is not None and lic.end < day for lic in licences):
        return "expired"
    return "pending"


# --- exposures -----------------------------------------------------------------------------


@dataclass(slots=True)
class UncoveredCopy:
    """A present copy of a licensed asset held where none of its licences in force reach."""

    copy: Copy
    asset_id: int
    licences: list[Licence]
    reason: str


@dataclass(slots=True)
class ExpiredAsset:
    """An asset whose licences have all ended but of which copies are still held."""

    asset: Asset
    licences: list[Licence]
    ended: datetime.date
    copies: list[Copy]


@dataclass(slots=True)
class BoughtTwice:
    """An asset licensed more than once for overlapping periods, with what that cost."""

    asset: Asset
    licences: list[Licence]
    costs: dict[str, Decimal]

    @property
    def cost_text(self) -> str:
        return " + ".join(f"{currency} {amount:,.2f}" for currency, amount in self.costs.items())


@dataclass(slots=True)
class Exposures:
    uncovered: list[UncoveredCopy] = field(default_factory=list)
    expired: list[ExpiredAsset] = field(default_factory=list)
    bought_twice: list[BoughtTwice] = field(default_factory=list)

    @property
    def asset_ids(self) -> set[int]:
        """Return the assets exposed: held outside their licences or after they ended."""
        return {u.asset_id for u in self.uncovered} | {e.asset.pk for e in self.expired}


def _overlap(one: Licence, two: Licence) -> bool:
    far = datetime.date.max
    return one.start <= (two.end or far) and two.start <= (one.end or far)


def _covers(licence: Licence, copy: Copy) -> bool:
    return any(s.pk == copy.source_id for s in licence.sources.all()) or any(
        d.pk == copy.source.department_id for d in licence.departments.all()
    )


def licence_exposures(*, user: User, day: datetime.date | None = None) -> Exposures:
    """Return the copies held outside their licences, the assets held after their licences
    ended and the assets bought twice, among what the user may see."""
    day = day or today()
    visible_assets = assets_visible_to(user=user)
    attachments = (
        LicenceAttachment.objects.filter(asset__in=visible_assets)
        .select_related("licence", "asset")
        .prefetch_related("licence__sources", "licence__departments")
        .order_by("asset_id", "licence__start", "licence_id")
    )
    licences: dict[int, list[Licence]] = defaultdict(list)
    assets: dict[int, Asset] = {}
    for attachment in attachments:
        licences[attachment.asset_id].append(attachment.licence)
        assets[attachment.asset_id] = attachment.asset
    copies: dict[int, list[Copy]] = defaultdict(list)
    present = (
        Copy.objects.filter(
            state=Copy.State.PRESENT,
            rendition__asset__in=list(licences),
            source__in=sources_visible_to(user=user),
        )
        .select_related("source__department", "rendition")
        .order_by("source__name", "path")
    )
    for copy in present:
        copies[copy.rendition.asset_id].append(copy)
    exposures = Exposures()
    for asset_id, held in licences.items():
        state = licence_state(held, day)
        if state == "expired" and copies[asset_id]:
            ended = max(lic.end for lic in held if lic.end is not None)
            exposures.expired.append(ExpiredAsset(assets[asset_id], held, ended, copies[asset_id]))
        elif state in ("licensed", "pending"):
            running = [lic for lic in held if lic.in_force_on(day)]
            for copy in copies[asset_id]:
                if any(_covers(lic, copy) for lic in running):
                    continue
                if not running:
                    starts = min(lic.start for lic in held)
                    reason = f"no licence is in force yet (the first starts {starts:%Y-%m-%d})"
                else:
                    where = copy.source.department.code if copy.source.department else "none"
                    refs = ", ".join(lic.reference for lic in running)
                    reason = (
                        f"source {copy.source.name} (department {where}) is not covered by {refs}"
                    )
                exposures.uncovered.append(UncoveredCopy(copy, asset_id, running or held, reason))
        overlapping = [lic for lic in held if any(o is not lic and _overlap(lic, o) for o in held)]
        if len(overlapping) > 1:
            costs: dict[str, Decimal] = defaultdict(Decimal)
            for lic in overlapping:
                costs[lic.currency] += lic.cost
            exposures.bought_twice.append(BoughtTwice(assets[asset_id], overlapping, dict(costs)))
    return exposures
