"""Tasks from decisions: creation, the severity policy, supersession, people's changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.models import AuditEvent
from governance.remediation.models import DisposalDecision, RemediationTask, TaskChange
from governance.remediation.policy import parse_due_days, severity_for
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.tasks import (
    TaskSpec,
    remediation_tasks_create,
    task_status_set,
    tasks_assign,
    tasks_bulk,
    tasks_reschedule,
    tasks_waive,
)
from inventory.models import Rendition, Source, Supersession
from tests.factories import UserFactory
from tests.remediation.conftest import task_on

pytestmark = pytest.mark.django_db

Status = RemediationTask.Status
Action = RemediationTask.Action


@pytest.fixture
def decision(archive, role_users) -> DisposalDecision:
    return disposal_decide(
        asset=archive.asset(),
        decided_by=role_users["compliance"],
        reason="keep the library still",
        keep=archive.copy("library", "stills/astronaut.jpg"),
    )


def test_the_same_decision_never_makes_two_tasks_for_one_copy_and_action(
    archive, decision, role_users
):
    copy = archive.copy("library", "backup/astronaut.jpg")
    before = RemediationTask.objects.count()

    again = remediation_tasks_create(
        origin=decision,
        plan=[
            TaskSpec(copy=copy, action=Action.REMOVE_DUPLICATE),
            TaskSpec(copy=copy, action=Action.REMOVE_DUPLICATE),
        ],
        created_by=role_users["compliance"],
    )

    assert RemediationTask.objects.count() == before
    assert again == [task_on("backup/astronaut.jpg")]


def test_tasks_record_the_decision_the_copy_and_its_hash(archive, decision):
    task = task_on("backup/astronaut.jpg")

    assert task.origin == decision
    assert task.origin_label == f"disposal decision {decision.pk} on asset {decision.asset_id}"
    assert task.sha256 == archive.copy("library", "backup/astronaut.jpg").sha256
    assert TaskChange.objects.filter(task=task, from_status="", to_status=Status.OPEN).exists()
    created = AuditEvent.objects.get(
        object_type="remediation_task", object_id=str(task.pk), detail__created_by_decision__gt=""
    )
    assert created.agent == "compliance"


def test_severity_and_due_date_follow_the_policy(archive, role_users, settings):
    settings.PROVENA_REMEDIATION_DUE_DAYS = parse_due_days("3,10,20,60")
    hero = archive.copy("website", "img/hero.jpg")
    backup = archive.copy("library", "backup/astronaut.jpg")
    origin = Source.objects.get(name="library")

    tasks = remediation_tasks_create(
        origin=origin,
        plan=[
            TaskSpec(copy=hero, action=Action.QUARANTINE, personal_data=True),
            TaskSpec(copy=backup, action=Action.QUARANTINE, personal_data=True),
            TaskSpec(copy=hero, action=Action.REMOVE_DUPLICATE),
            TaskSpec(copy=backup, action=Action.REMOVE_DUPLICATE),
        ],
        created_by=role_users["legal"],
    )

    today = timezone.localdate()
    assert [(t.get_severity_display(), (t.due_date - today).days) for t in tasks] == [
        ("critical", 3),  # personal data in an external-facing source first
        ("high", 10),
        ("medium", 20),
        ("low", 60),
    ]
    assert severity_for(personal_data=True, risk_tier="external") == "critical"


def test_a_bad_due_day_policy_is_refused_with_a_message():
    with pytest.raises(ValueError, match="for critical, high, medium, low"):
        parse_due_days("7,14")
    with pytest.raises(ValueError, match="at least 1"):
        parse_due_days("7,0,30,90")


def test_a_later_decision_supersedes_and_waives_the_open_work_of_the_earlier(
    archive, decision, role_users
):
    in_progress = task_on("img/hero.jpg", source="website")
    task_status_set(
        task=in_progress, status=Status.IN_PROGRESS, user=role_users["other_department"]
    )

    later = disposal_decide(
        asset=archive.asset(),
        decided_by=role_users["administrator"],
        reason="the website copy is the one to keep",
        keep=archive.copy("website", "img/hero.jpg"),
    )

    assert later.supersedes == decision
    old = RemediationTask.objects.filter(origin_id=decision.pk)
    assert set(old.values_list("status", flat=True)) == {Status.WAIVED}
    assert set(old.values_list("waived_reason", flat=True)) == {
        f"superseded by disposal decision {later.pk} on asset {later.asset_id}"
    }
    assert set(old.values_list("waived_by__username", flat=True)) == {"administrator"}
    new = RemediationTask.objects.filter(origin_id=later.pk)
    assert {t.path for t in new} == {"stills/astronaut.jpg", "backup/astronaut.jpg"}
    assert set(new.values_list("status", flat=True)) == {Status.OPEN}


def test_disposal_never_touches_a_crop(archive, decision):
    crop = archive.copy("library", "crops/astronaut_detail.jpg")

    assert crop.rendition.asset_id == decision.asset_id  # the crop belongs with the photograph
    assert not RemediationTask.objects.filter(copy=crop).exists()
    line = next(line for line in decision.plan if line["path"] == "crops/astronaut_detail.jpg")
    assert (line["relation"], line["action"]) == ("cropped", "keep")


def test_copies_of_a_superseded_version_are_retired(archive, role_users):
    still = archive.copy("library", "stills/astronaut.jpg")
    crop = archive.copy("library", "crops/astronaut_detail.jpg")
    # Pretend the crop is an older version: it stays, because crops are never disposed of.
    Supersession.objects.create(
        asset=still.rendition.asset,
        newer=still.rendition,
        older=crop.rendition,
        reason="test",
        created_by=role_users["compliance"],
    )
    decision = disposal_decide(
        asset=still.rendition.asset, decided_by=role_users["compliance"], reason="tidy", keep=still
    )
    assert not RemediationTask.objects.filter(copy=crop).exists()
    assert decision.plan

    # An older version that is not a crop is retired.
    Rendition.objects.filter(pk=crop.rendition_id).update(asset=still.rendition.asset)
    older = archive.copy("library", "stills/coffee.jpg")
    Rendition.objects.filter(pk=older.rendition_id).update(asset=still.rendition.asset)
    Supersession.objects.create(
        asset=still.rendition.asset,
        newer=still.rendition,
        older=older.rendition,
        reason="test",
        created_by=role_users["compliance"],
    )
    disposal_decide(
        asset=still.rendition.asset, decided_by=role_users["compliance"], reason="tidy", keep=still
    )
    assert task_on("stills/coffee.jpg").action == Action.RETIRE_OLD_VERSION


def test_a_disposal_decision_needs_a_reason_and_the_role(archive, role_users):
    with pytest.raises(ValidationError, match="say why"):
        disposal_decide(asset=archive.asset(), decided_by=role_users["compliance"], reason=" ")
    with pytest.raises(PermissionDenied):
        disposal_decide(asset=archive.asset(), decided_by=role_users["manager"], reason="tidy")
    assert not DisposalDecision.objects.exists()


def test_a_task_cannot_be_marked_verified_by_hand(decision, role_users):
    task = task_on("backup/astronaut.jpg")

    with pytest.raises(ValidationError, match="cannot be marked verified by hand"):
        task_status_set(task=task, status=Status.VERIFIED, user=role_users["administrator"])
    with pytest.raises(ValidationError, match="waive a task with a reason"):
        task_status_set(task=task, status=Status.WAIVED, user=role_users["administrator"])

    task.refresh_from_db()
    assert task.status == Status.OPEN


def test_status_moves_by_hand_are_recorded(decision, role_users):
    task = task_on("backup/astronaut.jpg")
    compliance = role_users["compliance"]

    task_status_set(task=task, status=Status.IN_PROGRESS, user=compliance, note="on it")
    task_status_set(task=task, status=Status.DONE, user=compliance)

    changes = list(TaskChange.objects.filter(task=task).values_list("from_status", "to_status"))
    assert changes == [("", "open"), ("open", "in_progress"), ("in_progress", "done")]
    with pytest.raises(PermissionDenied):
        task_status_set(task=task, status=Status.OPEN, user=role_users["manager"])
    with pytest.raises(PermissionDenied, match="another department"):
        task_status_set(task=task, status=Status.OPEN, user=role_users["other_department"])


def test_waiving_needs_a_reason_and_the_right_role(decision, role_users):
    task = task_on("backup/astronaut.jpg")

    with pytest.raises(ValidationError, match="without a reason"):
        tasks_waive(tasks=[task], reason="  ", user=role_users["manager"])
    with pytest.raises(PermissionDenied):
        tasks_waive(tasks=[task], reason="legal hold", user=role_users["compliance"])

    tasks_waive(tasks=[task], reason="legal hold on the backup", user=role_users["manager"])

    task.refresh_from_db()
    assert (task.status, task.waived_reason, task.waived_by) == (
        Status.WAIVED,
        "legal hold on the backup",
        role_users["manager"],
    )
    with pytest.raises(ValidationError, match="already waived"):
        tasks_waive(tasks=[task], reason="again", user=role_users["manager"])


def test_assigning_keeps_owners_in_the_tasks_department(decision, role_users):
    task = task_on("backup/astronaut.jpg")  # LCSD's
    manager = role_users["manager"]

    assert tasks_assign(tasks=[task], owner=role_users["compliance"], user=manager) == 1
    with pytest.raises(ValidationError, match="newsdesk is not in LCSD"):
        tasks_assign(tasks=[task], owner=role_users["other_department"], user=manager)
    with pytest.raises(PermissionDenied):
        tasks_assign(tasks=[task], owner=None, user=role_users["compliance"])

    task.refresh_from_db()
    assert task.owner == role_users["compliance"]


def test_rescheduling_refuses_a_past_date_and_records_the_old_one(decision, role_users):
    task = task_on("backup/astronaut.jpg")
    old_due = task.due_date
    manager = role_users["manager"]

    with pytest.raises(ValidationError, match="in the past"):
        tasks_reschedule(
            tasks=[task], due_date=timezone.localdate() - timedelta(days=1), user=manager
        )
    new_due = timezone.localdate() + timedelta(days=120)
    tasks_reschedule(tasks=[task], due_date=new_due, user=manager, reason="budget year")

    task.refresh_from_db()
    assert task.due_date == new_due
    change = TaskChange.objects.filter(task=task).last()
    assert change.detail == {
        "due_date": new_due.isoformat(),
        "previous_due_date": old_due.isoformat(),
    }


def test_bulk_assign_names_an_unknown_user(decision, role_users):
    tasks = list(RemediationTask.objects.filter(department__code="LCSD"))

    with pytest.raises(ValidationError, match="no user named 'nobody-here'"):
        tasks_bulk(action="assign", tasks=tasks, user=role_users["manager"], owner="nobody-here")
    UserFactory(username="lcsd-clerk", department=role_users["manager"].department)
    assert (
        tasks_bulk(action="assign", tasks=tasks, user=role_users["manager"], owner="lcsd-clerk")
        == 1
    )
