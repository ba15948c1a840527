"""Fixity: re-hash present copies read-only, flag changed and vanished files, record events."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.audit import EventSpec, audit_record, audit_record_many
from governance.models import AuditEvent, User
from inventory.events import ChangeKind, inventory_changed
from inventory.models import Copy, Scan, Source
from inventory.services.asset_upkeep import assets_check_masters
from inventory.services.sources import SourceRefused, source_root_recheck
from inventory.storage import SourceStore, store_for
from inventory.storage.local import PathOutsideSource

_CHUNK = 500  # copies hashed, then written (flags and events), per transaction
_HASH_THREADS = 4  # hashlib releases the GIL, so a few threads keep a disk or share busy
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

CHANGED = "changed"
MISSING = "missing"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class FixityProblem:
    """One copy that failed its fixity check, and why."""

    source: str
    path: str
    copy_id: int
    kind: str  # changed, missing or unreadable
    reason: str


@dataclass(slots=True)
class FixityResult:
    """What a fixity check found, per outcome."""

    checked: int = 0
    passed: int = 0
    problems: list[FixityProblem] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # sources not checked, with the reason

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.refused


@dataclass(frozen=True, slots=True)
class _Observed:
    copy_id: int
    path: str
    recorded_sha256: str
    recorded_size: int
    recorded_mtime_ns: int
    sha256: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    kind: str | None = None  # None when the bytes match
    reason: str = ""


def _hash_file(path: Path) -> tuple[str, int, int]:
    """Return (sha256, size, mtime_ns) of a regular file, read-only, not following a link."""
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return digest, before.st_size, before.st_mtime_ns


def _observe(store: SourceStore, row: tuple[int, str, str, int, int]) -> _Observed:
    copy_id, rel_path, recorded, size, mtime_ns = row
    base = _Observed(copy_id, rel_path, recorded, size, mtime_ns)
    try:
        digest, now_size, now_mtime = _hash_file(store.local_path(rel_path))
    except PathOutsideSource as exc:
        return replace(base, kind=UNREADABLE, reason=str(exc))
    except (FileNotFoundError, NotADirectoryError):
        return replace(base, kind=MISSING, reason="the file is gone; the copy is marked missing")
    except OSError as exc:
        reason = (
            "replaced by a symbolic link"
            if exc.errno == errno.ELOOP  # O_NOFOLLOW met a link
            else f"cannot be read: {exc.strerror or exc}"
        )
        return replace(base, kind=UNREADABLE, reason=reason)
    observed = replace(base, sha256=digest, size=now_size, mtime_ns=now_mtime)
    if digest == recorded:
        return observed
    if (now_size, now_mtime) == (size, mtime_ns):
        reason = (
            "the bytes changed but the size and modification time did not: possible "
            "corruption or tampering; restore the file from a good copy"
        )
    else:
        reason = (
            "the file was modified since the last scan (size or modification time changed); "
            "scan the source to record the new version, or restore the file"
        )
    return replace(observed, kind=CHANGED, reason=reason)


def _root_problem(source: Source) -> str | None:
    """Return why the source's root cannot be checked safely, or None."""
    store = store_for(source)
    root = store.location
    if not store.is_reachable():
        return (
            f"source root {root} is not reachable (deleted, or a share that is not mounted); "
            f"the fixity check of {source.name!r} stopped and no copy was marked"
        )
    if store.is_empty() and _present(source).exists():
        return (
            f"source root {root} is empty but the source holds present copies; is the share "
            f"mounted? The fixity check of {source.name!r} stopped and no copy was marked"
        )
    return None


def _present(source: Source) -> QuerySet[Copy]:
    return Copy.objects.filter(source=source, state=Copy.State.PRESENT).exclude(sha256="")


def _refuse(source: Source, reason: str, user: User | None, result: FixityResult) -> None:
    result.refused.append(reason)
    audit_record(
        event_type=AuditEvent.EventType.FIXITY_COMPUTED,
        object_type="source",
        object_id=source.pk,
        outcome=AuditEvent.Outcome.FAILURE,
        detail={"check": "fixity_check", "refused": reason},
        user=user,
        source_id=source.pk,
    )


def _event(source: Source, seen: _Observed, user: User | None) -> EventSpec:
    detail: dict = {"check": "fixity_check", "path": seen.path}
    if seen.kind is None:
        detail.update(sha256=seen.sha256, size=seen.size)
    else:
        detail.update(problem=seen.kind, reason=seen.reason, recorded_sha256=seen.recorded_sha256)
        if seen.sha256 is not None:
            detail.update(observed_sha256=seen.sha256, size=seen.size)
    return EventSpec(
        event_type=AuditEvent.EventType.FIXITY_COMPUTED,
        object_type="copy",
        object_id=seen.copy_id,
        outcome=AuditEvent.Outcome.SUCCESS if seen.kind is None else AuditEvent.Outcome.FAILURE,
        detail=detail,
        user=user,
        source_id=source.pk,
    )


@transaction.atomic
def _record_chunk(source: Source, observed: list[_Observed], user: User | None) -> None:
    """Flag the chunk's copies and record one event per copy, in one transaction."""
    now = timezone.now()
    passed = [seen.copy_id for seen in observed if seen.kind is None]
    Copy.objects.filter(pk__in=passed).update(fixity_checked_at=now, fixity_ok=True)
    for seen in observed:
        # The recorded sha256 is never overwritten: it is the evidence the file is judged by.
        if seen.kind == MISSING:
            Copy.objects.filter(pk=seen.copy_id, state=Copy.State.PRESENT).update(
                state=Copy.State.MISSING, missing_since=now, fixity_checked_at=now
            )
        elif seen.kind is not None:
            Copy.objects.filter(pk=seen.copy_id).update(fixity_checked_at=now, fixity_ok=False)
    audit_record_many([_event(source, seen, user) for seen in observed])


def _check_source(source: Source, user: User | None, result: FixityResult) -> None:
    running = Scan.objects.filter(source=source, status=Scan.Status.RUNNING).first()
    if running is not None:
        result.refused.append(
            f"a scan of {source.name!r} is running (scan {running.pk}); run the fixity check "
            "after it finishes"
        )
        return
    problem = _root_problem(source)
    if problem is None:
        # As at every scan: the root may have changed, or PROVENA_ALLOWED_ROOTS shrunk.
        try:
            source_root_recheck(source=source, activity="checked")
        except SourceRefused as exc:
            problem = str(exc)
    if problem:
        _refuse(source, problem, user, result)
        return
    store = store_for(source)
    rows = _present(source).order_by("pk").values_list("pk", "path", "sha256", "size", "mtime_ns")
    last_pk = 0
    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        while True:
            chunk = list(rows.filter(pk__gt=last_pk)[:_CHUNK])
            if not chunk:
                return
            last_pk = chunk[-1][0]
            observed = list(pool.map(lambda row: _observe(store, row), chunk))
            if any(seen.kind == MISSING for seen in observed):
                # Files that vanish because the share went away are not missing files.
                problem = _root_problem(source)
                if problem:
                    _refuse(source, problem, user, result)
                    return
            _record_chunk(source, observed, user)
            result.checked += len(observed)
            for seen in observed:
                if seen.kind is None:
                    result.passed += 1
                else:
                    result.problems.append(
                        FixityProblem(source.name, seen.path, seen.copy_id, seen.kind, seen.reason)
                    )


def fixity_check(*, source: Source | None, user: User | None = None) -> FixityResult:
    """Re-hash the present copies of one source (or all), flag failures and record events."""
    sources = [source] if source is not None else list(Source.objects.order_by("name"))
    result = FixityResult()
    checked = []
    for each in sources:
        refused = len(result.refused)
        _check_source(each, user, result)
        if len(result.refused) == refused:
            checked.append(each.pk)
    # The check is evidence for the sources' remediation tasks (copies gone or changed).
    inventory_changed(kind=ChangeKind.FIXITY_CHECKED, ids=checked)
    if result.count(MISSING):
        # A chosen master copy that went missing falls back to the rule and is flagged.
        assets_check_masters()
    return result
