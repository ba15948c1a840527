"""Register and look up sources."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from governance.audit import audit_record
from governance.models import AuditEvent, Department, User
from inventory.models import Source


class SourceRefused(ValueError):
    """A source path that may not be registered, with the reason."""


def allowed_root_for(path: Path) -> Path:
    """Return the resolved path if it lies under PROVENA_ALLOWED_ROOTS, else refuse it."""
    try:
        resolved = path.expanduser().resolve()
    except (RuntimeError, OSError) as exc:
        # "~someone" with no such user, or a loop of symbolic links: no folder to speak of.
        raise SourceRefused(
            f"{path} cannot be resolved to a folder ({exc}); give its absolute path"
        ) from exc
    roots = settings.PROVENA_ALLOWED_ROOTS
    if not roots:
        raise SourceRefused(
            "PROVENA_ALLOWED_ROOTS is empty, so no folder may be scanned; set it to a "
            "':'-separated list of the folders Provena may read"
        )
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ":".join(str(root) for root in roots)
        raise SourceRefused(f"{resolved} is not under PROVENA_ALLOWED_ROOTS ({allowed})")
    media_root = settings.PROVENA_MEDIA_ROOT
    if (
        resolved == media_root
        or resolved.is_relative_to(media_root)
        or media_root.is_relative_to(resolved)
    ):
        raise SourceRefused(f"{resolved} overlaps PROVENA_MEDIA_ROOT ({media_root})")
    # Files Provena removes from sources wait there; scanning them would count them again.
    quarantine_root = settings.PROVENA_QUARANTINE_ROOT
    if quarantine_root is not None and (
        resolved.is_relative_to(quarantine_root) or quarantine_root.is_relative_to(resolved)
    ):
        raise SourceRefused(f"{resolved} overlaps PROVENA_QUARANTINE_ROOT ({quarantine_root})")
    if not resolved.exists():
        raise SourceRefused(f"{resolved} does not exist")
    if not resolved.is_dir():
        raise SourceRefused(f"{resolved} is not a folder")
    return resolved


def source_register(
    *,
    root: Path,
    name: str | None = None,
    department_code: str | None = None,
    risk_tier: str = Source.RiskTier.INTERNAL,
    authoritative: bool = False,
    created_by: User | None = None,
) -> Source:
    """Return the source for root, registering it (with its department) if it is new."""
    resolved = allowed_root_for(root)
    existing = Source.objects.filter(root=str(resolved)).first()
    if existing is not None:
        if name and existing.name != slugify(name):
            raise SourceRefused(
                f"{resolved} is already registered as source {existing.name!r}, not {name!r}"
            )
        return existing
    source_name = slugify(name or resolved.name) or "source"
    if Source.objects.filter(name=source_name).exists():
        raise SourceRefused(
            f"a source named {source_name!r} already exists for another folder; "
            "choose another name with --source"
        )
    if risk_tier not in Source.RiskTier.values:
        raise SourceRefused(
            f"risk tier {risk_tier!r} is not one of {', '.join(Source.RiskTier.values)}"
        )
    with transaction.atomic():
        department = None
        if department_code:
            department, _ = Department.objects.get_or_create(
                code=department_code.strip(), defaults={"name": department_code.strip()}
            )
        source = Source.objects.create(
            name=source_name,
            root=str(resolved),
            department=department,
            risk_tier=risk_tier,
            authoritative=authoritative,
            created_by=created_by,
        )
        audit_record(
            event_type=AuditEvent.EventType.SOURCE_REGISTERED,
            object_type="source",
            object_id=source.pk,
            detail={
                "name": source.name,
                "root": source.root,
                "department": department.code if department else None,
                "risk_tier": source.risk_tier,
                "authoritative": source.authoritative,
            },
            user=created_by,
            source_id=source.pk,
        )
    return source
