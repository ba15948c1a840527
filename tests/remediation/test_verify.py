"""Verification by evidence: the next scan or fixity check verifies tasks, or reopens them."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent
from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.tasks import (
    TaskSpec,
    remediation_tasks_create,
    task_status_set,
)
from governance.remediation.services.verification import remediation_tasks_verify
from inventory.models import Copy, Source
from inventory.services.fixity import fixity_check
from tests.remediation.conftest import rescan, task_on

pytestmark = pytest.mark.django_db

Status = RemediationTask.Status


@pytest.fixture
def decided(archive, role_users):
    """The compliance officer keeps the library's still and disposes of the other copies."""
    disposal_decide(
        asset=archive.asset(),
        decided_by=role_users["compliance"],
        reason="one master is enough",
        keep=archive.copy("library", "stills/astronaut.jpg"),
    )
    return archive


def test_a_disposal_decision_on_a_duplicated_image_creates_a_task_per_redundant_copy(decided):
    tasks = {
        (t.copy.source.name, t.copy.path): t
        for t in RemediationTask.objects.select_related("copy__source")
    }

    assert set(tasks) == {("library", "backup/astronaut.jpg"), ("website", "img/hero.jpg")}
    backup = tasks["library", "backup/astronaut.jpg"]
    assert backup.action == RemediationTask.Action.REMOVE_DUPLICATE
    assert backup.status == Status.OPEN
    assert backup.sha256 == decided.copy("library", "backup/astronaut.jpg").sha256
    assert backup.department.code == "LCSD"
    assert tasks["website", "img/hero.jpg"].department.code == "NEWS"


def test_a_rescan_after_the_file_is_removed_verifies_its_task(decided):
    (decided.library / "backup" / "astronaut.jpg").unlink()

    scan = rescan(decided.library, "library")

    task = task_on("backup/astronaut.jpg")
    assert task.status == Status.VERIFIED
    assert task.verified_at is not None
    assert task.evidence["copy_state"] == Copy.State.MISSING
    assert task.evidence["latest_scan"] == scan.pk
    assert "nothing is at its path" in task.evidence["finding"]
    assert scan.timings["remediation"]["verified"] == 1
    # The website's copy is still there and its scan has not run: its task stays open.
    assert task_on("img/hero.jpg", source="website").status == Status.OPEN
    event = AuditEvent.objects.filter(
        object_type="remediation_task", object_id=str(task.pk), detail__status="verified"
    ).get()
    assert event.agent_user is None


def test_a_rescan_with_the_file_still_present_keeps_open_tasks_open(decided):
    rescan(decided.library, "library")

    task = task_on("backup/astronaut.jpg")
    assert task.status == Status.OPEN
    assert task.verified_at is None


def test_a_done_task_whose_copy_is_still_there_reopens_at_the_next_scan(decided, role_users):
    task = task_on("img/hero.jpg", source="website")
    task_status_set(task=task, status=Status.DONE, user=role_users["other_department"])

    rescan(decided.website, "website")

    task.refresh_from_db()
    assert task.status == Status.OPEN
    assert task.reopened == 1
    last = TaskChange.objects.filter(task=task).order_by("-at", "-pk").first()
    assert (last.from_status, last.to_status) == (Status.DONE, Status.OPEN)
    assert "still present" in last.reason
    assert AuditEvent.objects.filter(
        object_type="remediation_task", object_id=str(task.pk), outcome="warning"
    ).exists()


def test_a_done_task_whose_file_was_removed_is_verified_not_reopened(decided, role_users):
    task = task_on("img/hero.jpg", source="website")
    task_status_set(task=task, status=Status.DONE, user=role_users["other_department"])
    (decided.website / "img" / "hero.jpg").unlink()

    rescan(decided.website, "website")

    task.refresh_from_db()
    assert task.status == Status.VERIFIED
    assert task.reopened == 0


def test_a_fixity_check_that_finds_the_file_gone_verifies_the_task(decided):
    (decided.library / "backup" / "astronaut.jpg").unlink()

    fixity_check(source=Source.objects.get(name="library"))

    assert task_on("backup/astronaut.jpg").status == Status.VERIFIED


def test_a_redaction_is_verified_when_the_file_changed_and_not_before(archive, role_users):
    copy = archive.copy("library", "stills/coffee.jpg")
    origin = Source.objects.get(name="library")  # any model instance may be the origin
    (task,) = remediation_tasks_create(
        origin=origin,
        plan=[TaskSpec(copy=copy, action=RemediationTask.Action.APPLY_REDACTION)],
        created_by=role_users["legal"],
    )
    rescan(archive.library, "library")
    task.refresh_from_db()
    assert task.status == Status.OPEN

    path = archive.library / "stills" / "coffee.jpg"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # the "redaction": different bytes at the same path
    path.write_bytes(bytes(data))
    fixity_check(source=origin)

    task.refresh_from_db()
    assert task.status == Status.VERIFIED
    assert task.evidence["finding"] == "the file changed since the decision"


def test_restricting_access_is_verified_by_the_files_permissions(archive, role_users):
    copy = archive.copy("library", "stills/coffee.jpg")
    (task,) = remediation_tasks_create(
        origin=copy.source,
        plan=[TaskSpec(copy=copy, action=RemediationTask.Action.RESTRICT_ACCESS)],
        created_by=role_users["legal"],
    )
    path = archive.library / "stills" / "coffee.jpg"
    path.chmod(0o644)
    remediation_tasks_verify(source=copy.source)
    task.refresh_from_db()
    assert task.status == Status.OPEN

    path.chmod(0o640)
    result = remediation_tasks_verify(source=copy.source)

    task.refresh_from_db()
    assert result.verified == [task.pk]
    assert task.status == Status.VERIFIED
    assert task.evidence["mode"] == "0o640"


def test_an_unreachable_source_root_verifies_nothing(decided):
    source = Source.objects.get(name="library")
    decided.library.rename(decided.library.with_name("library-unmounted"))

    result = remediation_tasks_verify(source=source)

    assert result.verified == []
    assert "not reachable" in result.skipped
    assert task_on("backup/astronaut.jpg").status == Status.OPEN
