"""Register and look up sources."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from governance.audit import audit_record
from governance.models import AuditEvent, Department, User
from inventory.models import Source
from inventory.source_overlap import ancestors, relation


class SourceRefused(ValueError):
    """A source path that may not be registered, with the reason."""


class SourceNestingUnconfirmed(SourceRefused):
    """A root that nests in or encloses a source of the same department, not yet confirmed."""


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


def _department_label(source: Source) -> str:
    return f"department {source.department.code}" if source.department else "no department"


def overlapping_sources(*, root: str, exclude: Source | None = None) -> list[tuple[Source, str]]:
    """Return the sources whose trees overlap root, each with how root stands to it
    ("same", "inside": root lies in it, "encloses": it lies under root)."""
    below = root.rstrip("/") + "/"
    candidates = Source.objects.filter(Q(root__in=ancestors(root)) | Q(root__startswith=below))
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    found = []
    # LIKE is case-insensitive on SQLite: keep only the exact overlaps.
    for source in candidates.select_related("department").order_by("root"):
        how = relation(root, source.root)
        if how is not None:
            found.append((source, how))
    return found


def _describe(how: str, source: Source) -> str:
    where = {"same": "is the root of", "inside": "lies inside", "encloses": "encloses"}[how]
    return f"{where} source {source.name!r} ({_department_label(source)})"


def check_no_foreign_overlap(
    *, root: str, department_id: int | None, exclude: Source | None
) -> None:
    """Refuse a root whose tree overlaps a source of another department."""
    foreign = [
        (source, how)
        for source, how in overlapping_sources(root=root, exclude=exclude)
        if source.department_id != department_id
    ]
    if foreign:
        described = "; ".join(_describe(how, source) for source, how in foreign)
        raise SourceRefused(
            f"{root} {described}: sources of different departments may not nest or overlap, "
            "because each would hold the other's files. Register a folder that lies outside "
            "them, or ask an administrator to move the files or the source"
        )


def source_register(
    *,
    root: Path,
    name: str | None = None,
    department_code: str | None = None,
    risk_tier: str = Source.RiskTier.INTERNAL,
    authoritative: bool = False,
    allow_nested: bool = False,
    created_by: User | None = None,
) -> Source:
    """Return the source for root, registering it (with its department) if it is new.

    A root may not overlap another department's source; one that nests in or encloses a
    source of its own department (its files would be inventoried twice) needs allow_nested.
    """
    resolved = allowed_root_for(root)
    code = department_code.strip() if department_code else None
    existing = Source.objects.filter(root=str(resolved)).select_related("department").first()
    if existing is not None:
        if name and existing.name != slugify(name):
            raise SourceRefused(
                f"{resolved} is already registered as source {existing.name!r}, not {name!r}"
            )
        existing_code = existing.department.code if existing.department else None
        if code and code != existing_code:
            raise SourceRefused(
                f"{resolved} is already registered as source {existing.name!r} of "
                f"{_department_label(existing)}, not of department {code}"
            )
        return existing
    if risk_tier not in Source.RiskTier.values:
        raise SourceRefused(
            f"risk tier {risk_tier!r} is not one of {', '.join(Source.RiskTier.values)}"
        )
    source_name = slugify(name or resolved.name) or "source"
    if Source.objects.filter(name=source_name).exists():
        raise SourceRefused(
            f"a source named {source_name!r} already exists for another folder; "
            "choose another name with --source"
        )
    # One transaction: a refusal below rolls back a department created for it.
    with transaction.atomic():
        department = None
        if code:
            department, _ = Department.objects.get_or_create(code=code, defaults={"name": code})
        department_id = department.pk if department else None
        check_no_foreign_overlap(root=str(resolved), department_id=department_id, exclude=None)
        nested = overlapping_sources(root=str(resolved))
        if nested and not allow_nested:
            described = "; ".join(_describe(how, source) for source, how in nested)
            raise SourceNestingUnconfirmed(
                f"{resolved} {described} of the same department: their common files would "
                "be inventoried twice and show as duplicates of themselves. If that is what "
                "you want, register it again confirming the nesting (allow_nested in the "
                "API, --allow-nested on the command line)"
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
                # Nesting within the department someone confirmed (allow_nested).
                **({"nested_with": [other.name for other, _ in nested]} if nested else {}),
            },
            user=created_by,
            source_id=source.pk,
        )
    return source


def source_root_recheck(*, source: Source, activity: str = "scanned") -> None:
    """Refuse to scan (or otherwise read) a source whose root is no longer allowed, now
    resolves elsewhere or overlaps another department's source (roots can change outside
    the services, and PROVENA_ALLOWED_ROOTS can shrink after registration)."""
    try:
        resolved = allowed_root_for(Path(source.root))
    except SourceRefused as exc:
        raise SourceRefused(
            f"source {source.name!r} may no longer be {activity}: {exc}. Nothing was read; put "
            "the folder back under PROVENA_ALLOWED_ROOTS or stop scanning the source"
        ) from exc
    if str(resolved) != source.root:
        raise SourceRefused(
            f"source {source.name!r} may no longer be {activity}: its root {source.root} now "
            f"resolves to {resolved} (a symbolic link?). Nothing was read"
        )
    try:
        check_no_foreign_overlap(
            root=source.root, department_id=source.department_id, exclude=source
        )
    except SourceRefused as exc:
        raise SourceRefused(f"source {source.name!r} may no longer be {activity}: {exc}") from exc
