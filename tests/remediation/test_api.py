"""The remediation API: list and filter, status updates, bulk actions, the summary; per role."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.remediation.models import RemediationTask
from tests.remediation.seed import seed_tasks

pytestmark = pytest.mark.django_db

Status = RemediationTask.Status


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def seeded(archive, role_users):
    return seed_tasks(archive, role_users)


@pytest.mark.parametrize(
    ("role", "count"),
    [
        ("compliance", 3),
        ("legal", 5),  # legal reviewers answer for personal data organisation-wide
        ("manager", 3),
        ("auditor", 5),
        ("administrator", 5),
        ("other_department", 2),
    ],
)
def test_each_role_lists_the_tasks_of_the_sources_it_sees(seeded, role_users, role, count):
    response = api_for(role_users[role]).get("/api/remediation/tasks/")

    assert response.status_code == 200
    assert response.json()["count"] == count


def test_anonymous_callers_get_a_token_challenge(seeded):
    response = APIClient().get("/api/remediation/tasks/")

    assert response.status_code == 401


def test_tasks_filter_by_status_department_and_overdue(seeded, role_users):
    client = api_for(role_users["auditor"])

    overdue = client.get("/api/remediation/tasks/?status=overdue").json()
    news = client.get("/api/remediation/tasks/?department=NEWS&status=outstanding").json()

    assert [t["id"] for t in overdue["results"]] == [seeded.coffee.pk]
    assert overdue["results"][0]["overdue"] is True
    assert overdue["results"][0]["severity"] == "high"
    assert {t["id"] for t in news["results"]} == {seeded.hero.pk, seeded.hero_face.pk}
    assert news["results"][0]["severity"] == "critical"  # personal data, external source


def test_a_task_shows_its_decision_copy_and_evidence(seeded, role_users):
    body = api_for(role_users["auditor"]).get(f"/api/remediation/tasks/{seeded.backup.pk}/").json()

    assert body["status"] == "verified"
    assert body["decision_type"] == "disposaldecision"
    assert body["source"] == "library"
    assert body["evidence"]["copy_state"] == "missing"
    assert body["action"] == "remove_duplicate"


def test_marking_verified_through_the_api_is_a_400_with_a_message(seeded, role_users):
    response = api_for(role_users["compliance"]).post(
        f"/api/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "verified"}
    )

    assert response.status_code == 400
    assert "cannot be marked verified by hand" in response.json()["detail"][0]


def test_a_compliance_officer_updates_status_through_the_api(seeded, role_users):
    response = api_for(role_users["compliance"]).post(
        f"/api/remediation/tasks/{seeded.coffee.pk}/status/",
        {"status": "done", "note": "share permissions changed"},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "done"
    history = api_for(role_users["auditor"]).get(
        f"/api/remediation/tasks/{seeded.coffee.pk}/history/"
    )
    assert history.json()[-1]["reason"] == "share permissions changed"


@pytest.mark.parametrize(("role", "status"), [("manager", 403), ("auditor", 403), ("legal", 403)])
def test_read_only_roles_may_not_update_status(seeded, role_users, role, status):
    response = api_for(role_users[role]).post(
        f"/api/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "in_progress"}
    )

    assert response.status_code == status


def test_another_departments_task_is_not_found(seeded, role_users):
    response = api_for(role_users["other_department"]).post(
        f"/api/remediation/tasks/{seeded.coffee.pk}/status/", {"status": "in_progress"}
    )

    assert response.status_code == 404


def test_a_manager_bulk_reschedules_and_waives(seeded, role_users):
    client = api_for(role_users["manager"])

    rescheduled = client.post(
        "/api/remediation/tasks/bulk/",
        {"action": "reschedule", "tasks": [seeded.coffee.pk], "due_date": "2099-01-31"},
        format="json",
    )
    waived = client.post(
        "/api/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.coffee.pk], "reason": "share retired"},
        format="json",
    )

    assert rescheduled.json() == {"action": "reschedule", "changed": 1}
    assert waived.status_code == 200
    seeded.coffee.refresh_from_db()
    assert (seeded.coffee.status, seeded.coffee.due_date.isoformat()) == (
        Status.WAIVED,
        "2099-01-31",
    )


def test_bulk_waive_without_a_reason_is_a_400(seeded, role_users):
    response = api_for(role_users["manager"]).post(
        "/api/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.coffee.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert "without a reason" in response.json()["detail"][0]


@pytest.mark.parametrize("role", ["compliance", "legal", "auditor"])
def test_only_managers_and_administrators_waive(seeded, role_users, role):
    response = api_for(role_users[role]).post(
        "/api/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.coffee.pk], "reason": "no"},
        format="json",
    )

    assert response.status_code == 403


def test_bulk_actions_name_a_task_the_caller_cannot_see(seeded, role_users):
    response = api_for(role_users["manager"]).post(
        "/api/remediation/tasks/bulk/",
        {"action": "waive", "tasks": [seeded.hero.pk], "reason": "no"},
        format="json",
    )

    assert response.status_code == 400
    assert f"task {seeded.hero.pk} does not exist" in response.json()["tasks"][0]


def test_the_summary_counts_by_status_department_and_age(seeded, role_users):
    body = api_for(role_users["auditor"]).get("/api/remediation/status/").json()

    assert body["total"] == 5
    assert body["overdue"] == 1
    assert body["by_status"]["verified"] == 1
    assert body["by_department"]["NEWS"]["in_progress"] == 1
    assert body["by_age"]["31–90 days"] == 1


def test_the_schema_documents_the_remediation_endpoints(role_users):
    client = Client()
    client.force_login(role_users["auditor"])

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = json.loads(response.content)
    assert {
        "/api/remediation/tasks/",
        "/api/remediation/tasks/{id}/status/",
        "/api/remediation/tasks/bulk/",
        "/api/remediation/status/",
    } <= set(schema["paths"])
    listing = schema["paths"]["/api/remediation/tasks/"]["get"]
    assert {"status", "department", "owner"} <= {p["name"] for p in listing["parameters"]}
