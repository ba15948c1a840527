"""Safe execution: quarantine and restore byte for byte, purge only after retention, refusals."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from governance.models import AuditEvent
from governance.remediation.files import manifest_read
from governance.remediation.models import QuarantineEntry, RemediationTask, SourcePolicy
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.execution import (
    execution_plan,
    execution_run,
    quarantine_root,
    quarantine_root_problem,
    source_policy_set,
)
from governance.remediation.services.quarantine import quarantine_purge, quarantine_restore
from inventory.models import Copy, Source
from inventory.services.sources import SourceRefused, source_register
from tests.remediation.conftest import enable_execution, rescan, task_on

pytestmark = pytest.mark.django_db

Status = RemediationTask.Status
BACKUP = "backup/astronaut.jpg"


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Return every file under root with its bytes and modification time."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def decided(archive, role_users):
    disposal_decide(
        asset=archive.asset(),
        decided_by=role_users["compliance"],
        reason="the backup folder duplicates the stills",
        keep=archive.copy("library", "stills/astronaut.jpg"),
    )
    return archive


@pytest.fixture
def library(decided) -> Source:
    return Source.objects.get(name="library")


def test_execution_is_off_by_default_and_refuses_with_a_message(decided, library, role_users):
    before = _tree(decided.library)

    with pytest.raises(ValidationError, match="execution is off for library"):
        execution_run(source=library, user=role_users["compliance"])

    assert _tree(decided.library) == before
    assert not SourcePolicy.objects.filter(execution_enabled=True).exists()


def test_the_dry_run_shows_the_exact_plan_and_moves_nothing(decided, library):
    enable_execution("library")
    before = _tree(decided.library)
    task = task_on(BACKUP)

    plan = execution_plan(source=library)

    assert _tree(decided.library) == before
    assert not plan.problem
    assert [step.task for step in plan.runnable] == [task]
    (step,) = plan.runnable
    assert step.path == decided.library / BACKUP
    assert step.destination == f"library/task-{task.pk}/{BACKUP}"
    assert step.sha256_now == task.sha256
    assert plan.bytes == task.size
    assert not quarantine_root().exists()


def test_quarantine_and_restore_round_trip_byte_for_byte(decided, library, role_users):
    enable_execution("library")
    compliance = role_users["compliance"]
    original = decided.library / BACKUP
    data, mtime = original.read_bytes(), original.stat().st_mtime_ns
    before = _tree(decided.library)

    result = execution_run(source=library, user=compliance)

    (entry,) = result.quarantined
    assert result.refused == []
    assert not original.exists()
    held = quarantine_root() / entry.quarantine_path
    assert held.read_bytes() == data
    assert entry.sha256_before == entry.sha256_after == hashlib.sha256(data).hexdigest()
    assert Copy.objects.get(pk=entry.copy_id).state == Copy.State.QUARANTINED
    assert task_on(BACKUP).status == Status.DONE
    (line,) = manifest_read(quarantine_root())
    assert line["action"] == "quarantined"
    assert (line["source"], line["original_path"]) == ("library", BACKUP)
    assert line["sha256"] == entry.sha256_before

    quarantine_restore(entry=entry, user=compliance)

    assert original.read_bytes() == data
    assert original.stat().st_mtime_ns == mtime
    assert _tree(decided.library) == before
    assert not held.exists()
    entry.refresh_from_db()
    assert entry.state == QuarantineEntry.State.RESTORED
    assert Copy.objects.get(pk=entry.copy_id).state == Copy.State.PRESENT
    assert task_on(BACKUP).status == Status.OPEN
    assert [line["action"] for line in manifest_read(quarantine_root())] == [
        "quarantined",
        "restored",
    ]
    kinds = set(
        AuditEvent.objects.filter(object_type="copy", object_id=str(entry.copy_id)).values_list(
            "event_type", flat=True
        )
    )
    assert {"quarantined", "restored"} <= kinds
    # The restored file is unchanged to the scanner: same bytes, size and time.
    scan = rescan(decided.library, "library")
    assert scan.files_changed == 0


def test_the_scan_after_a_quarantine_verifies_the_task(decided, library, role_users):
    enable_execution("library")
    execution_run(source=library, user=role_users["compliance"])

    rescan(decided.library, "library")

    task = task_on(BACKUP)
    assert task.status == Status.VERIFIED
    assert task.evidence["copy_state"] == Copy.State.QUARANTINED


def test_execution_refuses_a_copy_that_changed_since_the_decision(decided, library, role_users):
    enable_execution("library")
    original = decided.library / BACKUP
    original.write_bytes(original.read_bytes() + b"appended after the decision")
    changed = original.read_bytes()

    plan = execution_plan(source=library)
    result = execution_run(source=library, user=role_users["compliance"])

    assert "changed since the decision" in plan.refused[0].problem
    assert result.quarantined == []
    ((task, reason),) = result.refused
    assert task == task_on(BACKUP)
    assert "changed since the decision" in reason
    assert "SHA-256" in reason
    assert original.read_bytes() == changed
    assert task_on(BACKUP).status == Status.OPEN
    assert AuditEvent.objects.filter(
        event_type="quarantined", outcome="failure", detail__task=task.pk
    ).exists()


def test_restore_refuses_when_something_now_sits_at_the_original_path(decided, library, role_users):
    enable_execution("library")
    compliance = role_users["compliance"]
    (entry,) = execution_run(source=library, user=compliance).quarantined
    newcomer = decided.library / BACKUP
    newcomer.write_bytes(b"a new file someone saved here")

    with pytest.raises(ValidationError, match="something now sits at library:backup"):
        quarantine_restore(entry=entry, user=compliance)

    assert newcomer.read_bytes() == b"a new file someone saved here"
    assert (quarantine_root() / entry.quarantine_path).exists()


def test_nothing_is_purged_before_the_retention_period(decided, library, role_users, settings):
    settings.PROVENA_QUARANTINE_RETENTION_DAYS = 30
    enable_execution("library")
    (entry,) = execution_run(source=library, user=role_users["compliance"]).quarantined
    held = quarantine_root() / entry.quarantine_path

    early = quarantine_purge(user=None, now=entry.quarantined_at + timedelta(days=29, hours=23))

    assert early.purged == []
    assert [(e.pk, until) for e, until in early.kept] == [
        (entry.pk, entry.quarantined_at + timedelta(days=30))
    ]
    assert held.exists()
    entry.refresh_from_db()
    assert entry.state == QuarantineEntry.State.QUARANTINED

    late = quarantine_purge(user=None, now=entry.quarantined_at + timedelta(days=30, minutes=1))

    assert [e.pk for e in late.purged] == [entry.pk]
    assert not held.exists()
    assert not (quarantine_root() / "library").exists()  # its empty folders went with it
    entry.refresh_from_db()
    assert entry.state == QuarantineEntry.State.PURGED
    assert Copy.objects.get(pk=entry.copy_id).state == Copy.State.REMOVED
    assert AuditEvent.objects.filter(event_type="purged", detail__entry=entry.pk).exists()
    assert manifest_read(quarantine_root())[-1]["action"] == "purged"


def test_a_dry_run_purge_deletes_nothing(decided, library, role_users):
    enable_execution("library")
    (entry,) = execution_run(source=library, user=role_users["compliance"]).quarantined

    result = quarantine_purge(
        user=None, now=entry.quarantined_at + timedelta(days=400), dry_run=True
    )

    assert [e.pk for e in result.purged] == [entry.pk]
    assert (quarantine_root() / entry.quarantine_path).exists()
    entry.refresh_from_db()
    assert entry.state == QuarantineEntry.State.QUARANTINED


def test_a_manager_may_not_execute_and_an_administrator_switches_execution_on(
    decided, library, role_users
):
    with pytest.raises(PermissionDenied):
        source_policy_set(source=library, enabled=True, user=role_users["compliance"])

    source_policy_set(source=library, enabled=True, user=role_users["administrator"])

    with pytest.raises(PermissionDenied):
        execution_run(source=library, user=role_users["manager"])
    assert (decided.library / BACKUP).exists()
    assert AuditEvent.objects.filter(
        object_type="source", object_id=str(library.pk), detail__execution_enabled=True
    ).exists()


def test_another_departments_officer_may_not_execute_in_this_source(decided, library, role_users):
    enable_execution("library")

    with pytest.raises(PermissionDenied, match="another department"):
        execution_run(source=library, user=role_users["other_department"])

    assert (decided.library / BACKUP).exists()


def test_a_quarantine_root_inside_a_scanned_source_is_refused_at_configuration(
    decided, library, role_users, settings
):
    settings.PROVENA_QUARANTINE_ROOT = decided.library / "quarantine"

    assert "lies inside source 'library'" in quarantine_root_problem()
    with pytest.raises(ValidationError, match="lies inside source 'library'"):
        source_policy_set(source=library, enabled=True, user=role_users["administrator"])
    assert not SourcePolicy.objects.filter(execution_enabled=True).exists()
    # Switched on before the root moved: execution refuses too, and nothing moves.
    enable_execution("library")
    with pytest.raises(ValidationError, match="lies inside source 'library'"):
        execution_run(source=library, user=role_users["compliance"])
    assert (decided.library / BACKUP).exists()
    assert not (decided.library / "quarantine").exists()


def test_the_system_check_reports_a_quarantine_root_inside_a_source(decided, settings):
    settings.PROVENA_QUARANTINE_ROOT = decided.website / "held"

    with pytest.raises(SystemCheckError, match="provena.E101"):
        call_command("check")


def test_a_source_inside_the_quarantine_root_is_refused(archives, settings, decided):
    settings.PROVENA_QUARANTINE_ROOT = archives
    held = archives / "inside"
    held.mkdir()

    with pytest.raises(SourceRefused, match="overlaps PROVENA_QUARANTINE_ROOT"):
        source_register(root=held)
    assert "lies inside the quarantine root" in quarantine_root_problem()


def test_execution_refuses_a_file_reached_through_a_symlinked_folder(decided, library, role_users):
    enable_execution("library")
    backup = decided.library / "backup"
    outside = decided.library.parent / "elsewhere"
    backup.rename(outside)
    backup.symlink_to(outside)

    result = execution_run(source=library, user=role_users["compliance"])

    assert result.quarantined == []
    assert "outside" in result.refused[0][1]
    assert (outside / "astronaut.jpg").exists()
