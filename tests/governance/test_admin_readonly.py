"""The Django admin shows domain models and changes none of them (issue 18, item 5): an edit
there would skip the services' checks (allowed roots, departments) and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory

from governance.models import Department, User
from inventory.models import Source
from inventory.services.sources import source_register
from reports.models import Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Accounts and departments are the administrator's to manage in the admin; nothing else is.
ACCOUNT_MODELS = {User, Group, Department}


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_every_domain_model_in_the_admin_is_read_only() -> None:
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    writable = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model not in ACCOUNT_MODELS
        # Provena's own apps (tokens and login throttling are django-rest-framework's and
        # django-axes', managed in the admin on purpose: revoking, unlocking).
        and model._meta.app_config.name.startswith(("governance", "inventory", "reports"))
        and (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
    ]
    shown = {model._meta.label for model in admin.site._registry}

    assert {"inventory.Source", "reports.Report", "governance.AuditEvent"} <= shown
    assert writable == [], f"make these admins read-only (governance.admin_readonly): {writable}"


def test_a_source_root_cannot_be_moved_outside_the_allowed_roots_in_the_admin(
    superuser_client: Client, archives: Path, tmp_path: Path
) -> None:
    folder = archives / "press"
    folder.mkdir()
    source = source_register(root=folder, department_code="NEWS")
    outside = tmp_path / "outside"
    outside.mkdir()
    url = f"/admin/inventory/source/{source.pk}/change/"

    assert superuser_client.get(url).status_code == 200  # shown
    changed = superuser_client.post(
        url, {"name": source.name, "root": str(outside), "risk_tier": "internal"}
    )
    added = superuser_client.post(
        "/admin/inventory/source/add/", {"name": "x", "root": str(outside), "risk_tier": "internal"}
    )
    deleted = superuser_client.post(f"/admin/inventory/source/{source.pk}/delete/", {"post": "yes"})

    assert (changed.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    source.refresh_from_db()
    assert source.root == str(folder.resolve())
    assert list(Source.objects.values_list("name", flat=True)) == ["press"]


def test_a_report_row_cannot_be_deleted_in_the_admin(
    superuser_client: Client, archives: Path
) -> None:
    report = Report.objects.create(number="PR-2026-0007", kind=Report.Kind.AUDIT)

    single = superuser_client.post(f"/admin/reports/report/{report.pk}/delete/", {"post": "yes"})
    bulk = superuser_client.post(
        "/admin/reports/report/",
        {"action": "delete_selected", "_selected_action": [report.pk], "post": "yes"},
    )

    assert single.status_code == 403
    assert bulk.status_code in (200, 302)  # no actions: the list page, nothing deleted
    assert Report.objects.filter(number="PR-2026-0007").exists()
