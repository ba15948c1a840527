"""Licences: record, change and delete them, attach them to assets and detach them; every
write is audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.audit import audit_record
from governance.models import AuditEvent, Department, User
from governance.roles import is_organisation_wide
from inventory.models import Asset, Licence, LicenceAttachment, Source
from inventory.selectors.assets import asset_source_id
from inventory.selectors.licences import licence_writable_by

LICENCE_FIELDS = ("licensor", "reference", "permitted_uses", "start", "end", "cost", "currency")


def _require(user: User, permission: str, doing: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(f"your role may not {doing}")


def _check_scope(user: User, departments: Iterable[Department], sources: Iterable[Source]) -> None:
    """Refuse a department user's licence that reaches beyond their department."""
    if is_organisation_wide(user=user):
        return
    foreign = sorted(
        {d.code for d in departments if d.pk != user.department_id}
        | {s.name for s in sources if s.department_id != user.department_id}
    )
    if foreign:
        raise PermissionDenied(
            f"you may record licences for your own department only, not for {', '.join(foreign)}"
        )


def _terms(licence: Licence) -> dict:
    """Return the licence's terms and coverage as they go into the audit log."""
    return {
        "licensor": licence.licensor,
        "reference": licence.reference,
        "permitted_uses": licence.permitted_uses,
        "start": licence.start.isoformat(),
        "end": licence.end.isoformat() if licence.end else None,
        "cost": f"{Decimal(licence.cost):.2f}",
        "currency": licence.currency,
        "departments": sorted(d.code for d in licence.departments.all()),
        "sources": sorted(s.name for s in licence.sources.all()),
    }


def _licence_source_id(licence: Licence) -> int | None:
    """Return a source the licence covers (a listed one, else one of a listed department's),
    so the audit log shows its events to the departments concerned."""
    listed = licence.sources.order_by("pk").values_list("pk", flat=True).first()
    if listed is not None:
        return listed
    return (
        Source.objects.filter(department__in=licence.departments.all())
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _licence_event(
    event_type: str, licence_id: int, user: User, detail: dict, source_id: int | None
) -> None:
    audit_record(
        event_type=event_type,
        object_type="licence",
        object_id=licence_id,
        detail=detail,
        user=user,
        source_id=source_id,
    )


def _clean(licence: Licence) -> None:
    if licence.end is not None and licence.end < licence.start:
        raise ValidationError({"end": "the licence ends before it starts"})
    if licence.cost is not None and licence.cost < 0:
        raise ValidationError({"cost": "a cost cannot be negative"})
    licence.full_clean(exclude=["created_by"])


@transaction.atomic
def licence_create(
    *,
    user: User,
    licensor: str,
    reference: str,
    start: datetime.date,
    end: datetime.date | None = None,
    permitted_uses: str = "",
    cost: Decimal = Decimal(0),
    currency: str | None = None,
    departments: Iterable[Department] = (),
    sources: Iterable[Source] = (),
) -> Licence:
    """Record a licence and what it covers."""
    _require(user, "inventory.add_licence", "record licences")
    departments, sources = list(departments), list(sources)
    _check_scope(user, departments, sources)
    licence = Licence(
        licensor=licensor,
        reference=reference,
        permitted_uses=permitted_uses,
        start=start,
        end=end,
        cost=cost,
        created_by=user,
    )
    if currency:
        licence.currency = currency
    _clean(licence)
    licence.save()
    licence.departments.set(departments)
    licence.sources.set(sources)
    _licence_event(
        AuditEvent.EventType.LICENCE_RECORDED,
        licence.pk,
        user,
        _terms(licence),
        _licence_source_id(licence),
    )
    return licence


@transaction.atomic
def licence_update(
    *,
    licence: Licence,
    user: User,
    departments: Iterable[Department] | None = None,
    sources: Iterable[Source] | None = None,
    **fields: Any,
) -> Licence:
    """Change a licence's terms or coverage."""
    _require(user, "inventory.change_licence", "change licences")
    if not licence_writable_by(user=user, licence=licence):
        raise PermissionDenied("this licence covers other departments; ask an administrator")
    unknown = set(fields) - set(LICENCE_FIELDS)
    if unknown:
        raise ValidationError({name: "not a licence field" for name in unknown})
    new_departments = list(departments) if departments is not None else None
    new_sources = list(sources) if sources is not None else None
    _check_scope(user, new_departments or [], new_sources or [])
    before = _terms(licence)
    for name, value in fields.items():
        setattr(licence, name, value)
    _clean(licence)
    licence.save()
    if new_departments is not None:
        licence.departments.set(new_departments)
    if new_sources is not None:
        licence.sources.set(new_sources)
    after = _terms(licence)
    changed = {
        name: {"from": before[name], "to": after[name]}
        for name in after
        if before[name] != after[name]
    }
    if changed:
        _licence_event(
            AuditEvent.EventType.LICENCE_CHANGED,
            licence.pk,
            user,
            {"reference": licence.reference, "changed": changed},
            _licence_source_id(licence),
        )
    return licence


@transaction.atomic
def licence_delete(*, licence: Licence, user: User) -> None:
    """Delete a licence attached to nothing (detach it first: detaching is audited)."""
    _require(user, "inventory.delete_licence", "delete licences")
    if not licence_writable_by(user=user, licence=licence):
        raise PermissionDenied("this licence covers other departments; ask an administrator")
    attached = list(licence.attachments.values_list("asset_id", flat=True))
    if attached:
        raise ValidationError(
            {"licence": f"it is attached to assets {', '.join(map(str, attached))}; detach first"}
        )
    # Record what was deleted, and where, before the rows go.
    terms, source_id, pk = _terms(licence), _licence_source_id(licence), licence.pk
    licence.delete()
    _licence_event(AuditEvent.EventType.LICENCE_DELETED, pk, user, terms, source_id)


def _event(event_type: str, licence: Licence, asset: Asset, user: User) -> None:
    audit_record(
        event_type=event_type,
        object_type="asset",
        object_id=asset.pk,
        detail={
            "licence": licence.pk,
            "licensor": licence.licensor,
            "reference": licence.reference,
            "start": licence.start.isoformat(),
            "end": licence.end.isoformat() if licence.end else None,
            "cost": f"{licence.cost:.2f}",
            "currency": licence.currency,
        },
        user=user,
        source_id=asset_source_id(asset.pk),
    )


@transaction.atomic
def licence_attach(*, licence: Licence, asset: Asset, user: User) -> LicenceAttachment:
    """Attach a licence to an asset (the caller has checked the user may see the asset)."""
    _require(user, "inventory.change_licence", "attach licences")
    if not licence_writable_by(user=user, licence=licence):
        raise PermissionDenied("this licence covers other departments; ask an administrator")
    if LicenceAttachment.objects.filter(licence=licence, asset=asset).exists():
        raise ValidationError({"licence": f"{licence} is already attached to asset {asset.pk}"})
    attachment = LicenceAttachment.objects.create(licence=licence, asset=asset, attached_by=user)
    _event(AuditEvent.EventType.LICENCE_ATTACHED, licence, asset, user)
    return attachment


@transaction.atomic
def licence_detach(*, licence: Licence, asset: Asset, user: User) -> None:
    """Detach a licence from an asset."""
    _require(user, "inventory.change_licence", "detach licences")
    if not licence_writable_by(user=user, licence=licence):
        raise PermissionDenied("this licence covers other departments; ask an administrator")
    deleted, _ = LicenceAttachment.objects.filter(licence=licence, asset=asset).delete()
    if not deleted:
        raise ValidationError({"licence": f"{licence} is not attached to asset {asset.pk}"})
    _event(AuditEvent.EventType.LICENCE_DETACHED, licence, asset, user)
