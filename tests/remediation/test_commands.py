"""The command line: remediation_status, send_remediation_digest and remediation."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.remediation.models import QuarantineEntry, RemediationTask
from governance.remediation.services.tasks import tasks_assign
from tests.remediation.seed import seed_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(archive, role_users):
    return seed_tasks(archive, role_users)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_remediation_status_prints_json_counts(seeded):
    status = json.loads(run("remediation_status", "--format", "json"))

    assert status["total"] == 5
    assert status["overdue"] == 1
    assert status["by_status"] == {
        "open": 2,
        "in_progress": 1,
        "done": 0,
        "verified": 1,
        "waived": 1,
    }
    assert status["by_department"]["LCSD"] == {
        "open": 1,
        "in_progress": 0,
        "done": 0,
        "verified": 1,
        "waived": 1,
        "overdue": 1,
    }
    assert status["by_age"] == {"0–7 days": 2, "8–30 days": 0, "31–90 days": 1, "over 90 days": 0}


def test_remediation_status_prints_a_table(seeded):
    table = run("remediation_status", "--format", "table")

    assert "5 in all, 1 overdue" in table
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert lines["LCSD"] == ["1", "0", "0", "1", "1", "1"]
    assert lines["NEWS"] == ["1", "1", "0", "0", "0", "0"]
    assert lines["in_progress"] == ["1"]


def test_remediation_status_refuses_an_unknown_format():
    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        call_command("remediation_status", "--format", "xml")


def test_the_digest_mails_each_owner_their_overdue_tasks(seeded, role_users, mailoutbox):
    manager = role_users["manager"]
    manager.email = "manager@lcsd.example"
    manager.save()

    out = run("send_remediation_digest")

    # Nobody owns the overdue task, so LCSD's manager hears about it.
    assert "sent 1 e-mail(s) about 1 overdue task(s)" in out
    (mail,) = mailoutbox
    assert mail.to == ["manager@lcsd.example"]
    assert mail.subject == "[Provena] 1 overdue remediation task"
    assert "library:stills/coffee.jpg" in mail.body
    assert "5 days late" in mail.body
    assert f"/remediation/tasks/{seeded.coffee.pk}/" in mail.body

    compliance = role_users["compliance"]
    tasks_assign(tasks=[seeded.coffee], owner=compliance, user=manager)
    mailoutbox.clear()
    out = run("send_remediation_digest")
    assert "skipped: compliance has no e-mail address" in out
    assert mailoutbox == []


def test_the_digest_dry_run_sends_nothing(seeded, role_users, mailoutbox):
    role_users["manager"].email = "manager@lcsd.example"
    role_users["manager"].save()

    out = run("send_remediation_digest", "--dry-run")

    assert "would send 1 e-mail(s)" in out
    assert mailoutbox == []


def test_the_remediation_command_plans_executes_restores_and_purges(seeded, role_users, archive):
    hero = archive.website / "img" / "hero.jpg"
    data = hero.read_bytes()

    plan = run("remediation", "plan", "--source", "website")
    assert "nothing would run: execution is off for website" in plan
    run("remediation", "enable", "--source", "website", "--user", "administrator")
    plan = run("remediation", "plan", "--source", "website")
    assert (
        f"task {seeded.hero.pk}: img/hero.jpg -> website/task-{seeded.hero.pk}/img/hero.jpg" in plan
    )

    with pytest.raises(CommandError, match="may not move files"):
        run("remediation", "execute", "--source", "website", "--user", "manager")
    out = run("remediation", "execute", "--source", "website", "--user", "administrator")
    assert "1 file(s) quarantined, 0 refused" in out
    assert not hero.exists()
    entry = QuarantineEntry.objects.get()

    purge = run("remediation", "purge")
    assert "purged 0, kept 1 within the retention period" in purge

    run("remediation", "restore", str(entry.pk), "--user", "administrator")
    assert hero.read_bytes() == data
    assert RemediationTask.objects.get(pk=seeded.hero.pk).status == RemediationTask.Status.OPEN


def test_the_remediation_command_names_what_is_wrong(seeded):
    with pytest.raises(CommandError, match="no source named 'nowhere'; registered sources"):
        run("remediation", "plan", "--source", "nowhere")
    with pytest.raises(CommandError, match="no active user named 'ghost'"):
        run("remediation", "execute", "--source", "website", "--user", "ghost")
    with pytest.raises(CommandError, match="no quarantine entry 99"):
        run("remediation", "restore", "99", "--user", "administrator")


def test_purge_from_cron_removes_only_files_past_retention(seeded, role_users, settings):
    settings.PROVENA_QUARANTINE_RETENTION_DAYS = 1
    run("remediation", "enable", "--source", "website", "--user", "administrator")
    run("remediation", "execute", "--source", "website", "--user", "administrator")
    entry = QuarantineEntry.objects.get()
    QuarantineEntry.objects.filter(pk=entry.pk).update(
        quarantined_at=timezone.now() - timedelta(days=2)
    )

    out = run("remediation", "purge")

    assert f"purged entry {entry.pk}" in out
    entry.refresh_from_db()
    assert entry.state == QuarantineEntry.State.PURGED
