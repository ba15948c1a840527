"""The remediation pages: the dashboard's figures, tasks, bulk actions, execution, disposal."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from governance.remediation.models import QuarantineEntry, RemediationTask
from inventory.models import Source
from tests.remediation.conftest import enable_execution
from tests.remediation.seed import seed_tasks

pytestmark = pytest.mark.django_db

Status = RemediationTask.Status


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def seeded(archive, role_users):
    return seed_tasks(archive, role_users)


def _cells(html: str, marker: str) -> str:
    """Return the table row that carries the marker attribute (e.g. data-department="LCSD")."""
    start = html.index(marker)
    return html[start : html.index("</tr>", start)]


def test_the_dashboard_shows_the_seeded_organisations_figures(seeded, role_users):
    response = client_for(role_users["auditor"]).get("/remediation/")

    assert response.status_code == 200
    context = response.context
    assert context["total"] == 5
    assert context["counts"] == {
        "open": 2,
        "in_progress": 1,
        "done": 0,
        "verified": 1,
        "waived": 1,
    }
    assert context["overdue_count"] == 1
    assert [t.pk for t in context["overdue"]] == [seeded.coffee.pk]
    progress = {row.department: row for row in context["progress"]}
    assert progress["LCSD"].counts == {"open": 1, "verified": 1, "waived": 1}
    assert (progress["LCSD"].overdue, progress["LCSD"].percent_closed) == (1, 67)
    assert progress["NEWS"].counts == {"open": 1, "in_progress": 1}
    assert context["ages"] == {"0–7 days": 2, "8–30 days": 0, "31–90 days": 1, "over 90 days": 0}
    assert [r.source for r in context["risks"]] == ["website", "library"]  # critical work first
    money = context["money"]
    assert money.total.reclaimed_bytes == seeded.astronaut_bytes  # the verified backup
    assert money.total.reclaimable_bytes == seeded.astronaut_bytes  # the hero copy, in progress
    assert context["burn_down"][-1][1] == 3  # five tasks, two closed
    html = response.content.decode()
    assert 'data-status="overdue">1<' in _cells(html, 'data-department="LCSD"')
    assert "<svg" in html and "Tasks by department and status" in html


def test_a_department_manager_sees_only_their_departments_tasks(seeded, role_users):
    response = client_for(role_users["manager"]).get("/remediation/")

    assert response.context["total"] == 3
    assert [row.department for row in response.context["progress"]] == ["LCSD"]


@pytest.mark.parametrize("role", ["compliance", "legal", "manager", "auditor", "administrator"])
def test_every_role_may_read_the_dashboard_and_the_task_list(seeded, role_users, role):
    client = client_for(role_users[role])

    assert client.get("/remediation/").status_code == 200
    assert client.get("/remediation/tasks/").status_code == 200
    assert client.get(f"/remediation/tasks/{seeded.coffee.pk}/").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(seeded):
    response = Client().get("/remediation/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_task_of_another_department_is_not_found(seeded, role_users):
    client = client_for(role_users["other_department"])

    assert client.get(f"/remediation/tasks/{seeded.coffee.pk}/").status_code == 404
    assert (
        client.post(
            f"/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "in_progress"}
        ).status_code
        == 404
    )


def test_marking_a_task_verified_by_hand_is_refused_with_a_message(seeded, role_users):
    response = client_for(role_users["compliance"]).post(
        f"/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "verified"}
    )

    assert response.status_code == 400
    assert "cannot be marked verified by hand" in response.content.decode()
    seeded.coffee.refresh_from_db()
    assert seeded.coffee.status == Status.OPEN


def test_a_compliance_officer_moves_a_task_along(seeded, role_users):
    response = client_for(role_users["compliance"]).post(
        f"/remediation/tasks/{seeded.coffee.pk}/status/",
        {"status": "in_progress", "note": "asked IT to change the share"},
    )

    assert response.status_code == 302
    seeded.coffee.refresh_from_db()
    assert seeded.coffee.status == Status.IN_PROGRESS


def test_a_manager_may_not_update_status(seeded, role_users):
    response = client_for(role_users["manager"]).post(
        f"/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "in_progress"}
    )

    assert response.status_code == 403


def test_bulk_waive_needs_a_reason(seeded, role_users):
    client = client_for(role_users["manager"])

    response = client.post(
        "/remediation/tasks/bulk/", {"action": "waive", "tasks": [seeded.coffee.pk], "reason": ""}
    )

    assert response.status_code == 400
    assert "say why the work is waived" in response.content.decode()
    seeded.coffee.refresh_from_db()
    assert seeded.coffee.status == Status.OPEN


def test_a_manager_bulk_waives_and_reschedules(seeded, role_users):
    client = client_for(role_users["manager"])

    waived = client.post(
        "/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.coffee.pk], "reason": "the share is retired"},
    )
    assert waived.status_code == 302
    seeded.coffee.refresh_from_db()
    assert (seeded.coffee.status, seeded.coffee.waived_by) == (Status.WAIVED, role_users["manager"])


def test_a_compliance_officer_may_not_waive(seeded, role_users):
    response = client_for(role_users["compliance"]).post(
        "/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.coffee.pk], "reason": "no"},
    )

    assert response.status_code == 403


def test_bulk_actions_refuse_tasks_the_user_cannot_see(seeded, role_users):
    response = client_for(role_users["manager"]).post(
        "/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.hero.pk], "reason": "not ours"},
    )

    assert response.status_code == 400
    seeded.hero.refresh_from_db()
    assert seeded.hero.status == Status.IN_PROGRESS


def test_the_csv_export_lists_the_filtered_tasks(seeded, role_users):
    response = client_for(role_users["auditor"]).get("/remediation/tasks/export.csv?status=overdue")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["id"], r["path"], r["overdue"], r["department"]) for r in rows] == [
        (str(seeded.coffee.pk), "stills/coffee.jpg", "yes", "LCSD")
    ]


def test_the_dry_run_page_shows_the_plan_and_execution_moves_the_file(archive, role_users):
    task = seed_tasks(archive, role_users).hero  # removing the website's copy, in progress
    enable_execution("website")
    client = client_for(role_users["administrator"])
    hero = archive.website / "img" / "hero.jpg"

    plan = client.get("/remediation/execution/website/")
    assert plan.status_code == 200
    assert f"website/task-{task.pk}/img/hero.jpg" in plan.content.decode()
    assert hero.exists()

    unconfirmed = client.post("/remediation/execution/website/", {"action": "execute"})
    assert unconfirmed.status_code == 400
    assert hero.exists()

    done = client.post("/remediation/execution/website/", {"action": "execute", "confirm": "1"})
    assert done.status_code == 200
    assert "1 file moved to quarantine" in done.content.decode()
    assert not hero.exists()
    assert QuarantineEntry.objects.get().task_id == task.pk


def test_a_manager_may_not_execute_or_switch_execution_on(seeded, role_users):
    client = client_for(role_users["manager"])

    assert client.post("/remediation/execution/library/", {"action": "enable"}).status_code == 403
    enable_execution("library")
    response = client.post("/remediation/execution/library/", {"action": "execute", "confirm": "1"})
    assert response.status_code == 403


def test_restoring_from_the_quarantine_page(archive, role_users):
    seed_tasks(archive, role_users)
    enable_execution("website")
    compliance = client_for(role_users["administrator"])
    compliance.post("/remediation/execution/website/", {"action": "execute", "confirm": "1"})
    entry = QuarantineEntry.objects.get()

    listing = compliance.get("/remediation/quarantine/")
    response = compliance.post(f"/remediation/quarantine/{entry.pk}/restore/")

    assert "img/hero.jpg" in listing.content.decode()
    assert response.status_code == 302
    assert (archive.website / "img" / "hero.jpg").exists()
    second = compliance.post(f"/remediation/quarantine/{entry.pk}/restore/")
    assert second.status_code == 400
    assert "nothing to restore" in second.content.decode()


def test_the_disposal_page_previews_then_records_the_decision(archive, role_users):
    client = client_for(role_users["compliance"])
    asset = archive.asset()
    keep = archive.copy("library", "stills/astronaut.jpg")

    preview = client.get(f"/remediation/assets/{asset.pk}/dispose/?keep={keep.pk}")
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert {(line.copy.path, line.action) for line in plan.lines} == {
        ("backup/astronaut.jpg", "remove_duplicate"),
        ("img/hero.jpg", "remove_duplicate"),
        ("crops/astronaut_detail.jpg", None),
    }
    assert not RemediationTask.objects.exists()

    missing_reason = client.post(f"/remediation/assets/{asset.pk}/dispose/", {"keep": keep.pk})
    assert missing_reason.status_code == 400
    assert "say why" in missing_reason.content.decode()

    decided = client.post(
        f"/remediation/assets/{asset.pk}/dispose/", {"keep": keep.pk, "reason": "one is enough"}
    )
    assert decided.status_code == 302
    assert RemediationTask.objects.count() == 2
    listing = client.get(decided["Location"])
    assert listing.context["page"].paginator.count == 1  # LCSD sees its own task only


def test_only_deciders_see_the_disposal_link_and_page(archive, role_users):
    asset = archive.asset()

    officer = client_for(role_users["compliance"]).get(f"/assets/{asset.pk}/")
    manager = client_for(role_users["manager"])

    assert "Dispose of duplicate copies" in officer.content.decode()
    group = client_for(role_users["compliance"]).get(f"/groups/{asset.pk}/")
    assert f'href="/remediation/assets/{asset.pk}/dispose/"' in group.content.decode()
    assert "Dispose of duplicate copies" not in manager.get(f"/assets/{asset.pk}/").content.decode()
    assert manager.get(f"/remediation/assets/{asset.pk}/dispose/").status_code == 403


def test_the_nav_links_to_remediation_for_readers(seeded, role_users):
    html = client_for(role_users["legal"]).get("/remediation/tasks/").content.decode()

    assert 'href="/remediation/"' in html
    assert Source.objects.count() == 2
