"""Reads over licences: who sees which, each asset's licence state, and the exposures.

A licence covers the copies held in the sources it lists and in the sources of the
departments it lists, from its start to its end (inclusive; no end: open-ended).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from governance.chunks import chunked
from governance.models import User
from governance.roles import is_organisation_wide
from inventory.models import Asset, Copy, Licence, LicenceAttachment, Source
from inventory.selectors.assets import assets_visible_to
from inventory.selectors.visibility import sources_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _HeldAsset(TypedDict):
    held_asset_id: int


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
        return exposed_assets(assets=assets, user=user, day=day)
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


def _attachments_of(
    asset_ref: str, day: datetime.date
) -> tuple[QuerySet[LicenceAttachment], QuerySet[LicenceAttachment], QuerySet[LicenceAttachment]]:
    """Return subqueries over the attachments of the asset named by asset_ref in the outer
    query: all of them, those in force on the day, and those ended before it."""
    attached = LicenceAttachment.objects.filter(asset=OuterRef(asset_ref))
    return attached, attached.filter(_in_force(day)), attached.filter(licence__end__lt=day)


def _present_in(sources: QuerySet[Source]) -> QuerySet[Copy]:
    return Copy.objects.filter(state=Copy.State.PRESENT, source__in=sources)


def uncovered_copies(*, user: User, day: datetime.date | None = None) -> QuerySet[Copy]:
    """Return the present copies, in sources the user sees, of assets with a licence in force
    (or only licences not yet started) that no licence in force covers where they are held."""
    day = day or today()
    attached, in_force, ended = _attachments_of("rendition__asset", day)
    by_source = in_force.filter(licence__sources=OuterRef("source"))
    by_department = in_force.filter(licence__departments=OuterRef("source__department"))
    return _present_in(sources_visible_to(user=user)).filter(
        Exists(attached),
        Exists(in_force) | ~Exists(ended),
        ~Exists(by_source),
        ~Exists(by_department),
    )


def _expired(user: User, day: datetime.date) -> Q:
    """Return the condition on assets: every licence ended, a present copy still held in a
    source the user sees."""
    _attached, in_force, ended = _attachments_of("pk", day)
    held = _present_in(sources_visible_to(user=user)).filter(rendition__asset=OuterRef("pk"))
    return Q(Exists(ended)) & ~Q(Exists(in_force)) & Q(Exists(held))


def exposed_assets(
    *, assets: QuerySet[Asset], user: User, day: datetime.date | None = None
) -> QuerySet[Asset]:
    """Return the assets with a copy held outside their licences or after they all ended."""
    day = day or today()
    uncovered = uncovered_copies(user=user, day=day).filter(rendition__asset=OuterRef("pk"))
    return assets.filter(Q(Exists(uncovered)) | _expired(user, day))


_CHUNK = 5000


def _licences_by_asset(asset_ids: set[int]) -> dict[int, list[Licence]]:
    """Return the licences attached to each of the assets, oldest first."""
    licences: dict[int, list[Licence]] = defaultdict(list)
    ids = sorted(asset_ids)
    for chunk in chunked(ids, _CHUNK):
        attachments = (
            LicenceAttachment.objects.filter(asset__in=chunk)
            .select_related("licence")
            .order_by("asset_id", "licence__start", "licence_id")
        )
        for attachment in attachments:
            licences[attachment.asset_id].append(attachment.licence)
    return licences


def _listed(copies: QuerySet[Copy]) -> QuerySet[WithAnnotations[Copy, _HeldAsset]]:
    """Return the copies as the lists show them: source and department loaded, the asset as
    held_asset_id (loading each rendition would cost more than the rest of the list)."""
    return (
        copies.select_related("source__department")
        .annotate(held_asset_id=F("rendition__asset_id"))
        .order_by("source__name", "path")
    )


def _uncovered(user: User, day: datetime.date) -> list[UncoveredCopy]:
    copies = list(_listed(uncovered_copies(user=user, day=day)))
    licences = _licences_by_asset({copy.held_asset_id for copy in copies})
    found = []
    for copy in copies:
        asset_id = copy.held_asset_id
        held = licences[asset_id]
        running = [lic for lic in held if lic.in_force_on(day)]
        if not running:
            starts = min(lic.start for lic in held)
            reason = f"no licence is in force yet (the first starts {starts:%Y-%m-%d})"
        else:
            where = copy.source.department.code if copy.source.department else "none"
            refs = ", ".join(lic.reference for lic in running)
            reason = f"source {copy.source.name} (department {where}) is not covered by {refs}"
        found.append(UncoveredCopy(copy, asset_id, running or held, reason))
    return found


def _expired_assets(user: User, day: datetime.date) -> list[ExpiredAsset]:
    assets = list(Asset.objects.filter(_expired(user, day)).order_by("pk"))
    licences = _licences_by_asset({asset.pk for asset in assets})
    copies: dict[int, list[Copy]] = defaultdict(list)
    held = _present_in(sources_visible_to(user=user)).filter(
        rendition__asset__in=Asset.objects.filter(_expired(user, day)).values("pk")
    )
    for copy in _listed(held):
        copies[copy.held_asset_id].append(copy)
    found = []
    for asset in assets:
        ended = max(lic.end for lic in licences[asset.pk] if lic.end is not None)
        found.append(ExpiredAsset(asset, licences[asset.pk], ended, copies[asset.pk]))
    return found


def _bought_twice(user: User) -> list[BoughtTwice]:
    # Two periods overlap when each starts before the other ends (no end: never ends).
    overlapping = (
        LicenceAttachment.objects.filter(asset=OuterRef("asset"))
        .exclude(licence=OuterRef("licence"))
        .filter(Q(licence__end__isnull=True) | Q(licence__end__gte=OuterRef("licence__start")))
        .filter(licence__start__lte=Coalesce(OuterRef("licence__end"), Value(datetime.date.max)))
    )
    attachments = (
        LicenceAttachment.objects.filter(asset__in=assets_visible_to(user=user))
        .filter(Exists(overlapping))
        .select_related("licence", "asset")
        .order_by("asset_id", "licence__start", "licence_id")
    )
    by_asset: dict[int, BoughtTwice] = {}
    for attachment in attachments:
        twice = by_asset.setdefault(
            attachment.asset_id, BoughtTwice(attachment.asset, [], defaultdict(Decimal))
        )
        twice.licences.append(attachment.licence)
        twice.costs[attachment.licence.currency] += attachment.licence.cost
    for twice in by_asset.values():
        twice.costs = dict(twice.costs)
    return list(by_asset.values())


def licence_exposures(*, user: User, day: datetime.date | None = None) -> Exposures:
    """Return the copies held outside their licences, the assets held after their licences
    ended and the assets bought twice, among what the user may see.

    The database picks the rows (uncovered_copies, the expired condition, overlapping
    attachments); Python only words the reasons and sums the costs of what it picked.
    """
    day = day or today()
    return Exposures(
        uncovered=_uncovered(user, day),
        expired=_expired_assets(user, day),
        bought_twice=_bought_twice(user),
    )
