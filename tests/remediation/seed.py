"""A seeded organisation: five remediation tasks in two departments, in every state but done.

task       department  source   action            severity  state
backup     LCSD        library  remove duplicate  low       verified (file removed, rescanned)
hero       NEWS        website  remove duplicate  medium    in progress
coffee     LCSD        library  restrict access   high      open, 40 days old, 5 days overdue
crop       LCSD        library  apply redaction   high      waived by the manager
hero-face  NEWS        website  apply redaction   critical  open, due in the future
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from governance.remediation.models import RemediationTask, TaskChange
from governance.remediation.services.disposal import disposal_decide
from governance.remediation.services.tasks import (
    TaskSpec,
    remediation_tasks_create,
    task_status_set,
    tasks_waive,
)
from tests.remediation.conftest import Archive, rescan

Action = RemediationTask.Action


@dataclass
class Seeded:
    backup: RemediationTask
    hero: RemediationTask
    coffee: RemediationTask
    crop: RemediationTask
    hero_face: RemediationTask
    astronaut_bytes: int


def _age(task: RemediationTask, *, days: int, due_in: int) -> None:
    """Move a task's creation back in time (the clock, for the seed), with its first change."""
    created = timezone.now() - timedelta(days=days)
    RemediationTask.objects.filter(pk=task.pk).update(
        created_at=created,
        status_changed_at=created,
        due_date=timezone.localdate() + timedelta(days=due_in),
    )
    TaskChange.objects.filter(task=task, from_status="").update(at=created)


def seed_tasks(archive: Archive, users: dict) -> Seeded:
    """Create the tasks through the services and bring them to the states above."""
    compliance, news = users["compliance"], users["other_department"]
    disposal_decide(
        asset=archive.asset(),
        decided_by=compliance,
        reason="one master copy is enough",
        keep=archive.copy("library", "stills/astronaut.jpg"),
    )
    hero_copy = archive.copy("website", "img/hero.jpg")
    coffee_copy = archive.copy("library", "stills/coffee.jpg")
    crop_copy = archive.copy("library", "crops/astronaut_detail.jpg")
    # A privacy ruling stands in as the origin: any decision may create tasks.
    coffee, crop, hero_face = remediation_tasks_create(
        origin=coffee_copy.rendition.asset,
        plan=[
            TaskSpec(copy=coffee_copy, action=Action.RESTRICT_ACCESS, personal_data=True),
            TaskSpec(copy=crop_copy, action=Action.APPLY_REDACTION, personal_data=True),
            TaskSpec(copy=hero_copy, action=Action.APPLY_REDACTION, personal_data=True),
        ],
        created_by=users["legal"],
    )
    backup = RemediationTask.objects.get(copy__path="backup/astronaut.jpg")
    hero = RemediationTask.objects.get(copy=hero_copy, action=Action.REMOVE_DUPLICATE)

    _age(coffee, days=40, due_in=-5)
    _age(backup, days=20, due_in=10)
    task_status_set(task=hero, status=RemediationTask.Status.IN_PROGRESS, user=news)
    tasks_waive(tasks=[crop], reason="the crop was never published", user=users["manager"])
    # Readable by all, whatever the umask: the access restriction is still to do.
    (archive.library / "stills" / "coffee.jpg").chmod(0o644)
    size = (archive.library / "backup" / "astronaut.jpg").stat().st_size
    (archive.library / "backup" / "astronaut.jpg").unlink()
    rescan(archive.library, "library")
    # The redaction and access tasks stay as they are: nothing changed in their files.
    for task in (backup, hero, coffee, crop, hero_face):
        task.refresh_from_db()
    assert backup.status == RemediationTask.Status.VERIFIED
    assert coffee.status == RemediationTask.Status.OPEN
    return Seeded(
        backup=backup,
        hero=hero,
        coffee=coffee,
        crop=crop,
        hero_face=hero_face,
        astronaut_bytes=size,
    )
