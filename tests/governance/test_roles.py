"""Tests for governance.roles and its data migration: the role groups and their permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from governance import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _permission_names(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migration_creates_the_five_role_groups() -> None:
    assert set(Group.objects.values_list("name", flat=True)) == {
        "compliance officer",
        "legal reviewer",
        "manager",
        "auditor",
        "administrator",
    }
    assert set(roles.ROLES) == set(roles.ROLE_PERMISSIONS)


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_group_holds_exactly_the_permissions_listed_for_it(role: str) -> None:
    group = Group.objects.get(name=role)

    assert _permission_names(group) == set(roles.ROLE_PERMISSIONS[role])


def test_auditor_holds_only_view_and_export_permissions() -> None:
    codenames = set(
        Group.objects.get(name=roles.AUDITOR).permissions.values_list("codename", flat=True)
    )

    assert codenames
    assert all(c.startswith("view_") or c == "export_findings" for c in codenames), codenames
    assert "view_copy" in codenames
    assert "export_findings" in codenames


def test_every_role_may_read_the_inventory() -> None:
    for role in roles.ROLES:
        names = _permission_names(Group.objects.get(name=role))
        assert {"inventory.view_source", "inventory.view_copy", "inventory.view_scan"} <= names


@pytest.mark.parametrize(
    ("role", "may_write"),
    [
        (roles.COMPLIANCE_OFFICER, True),
        (roles.ADMINISTRATOR, True),
        (roles.LEGAL_REVIEWER, False),
        (roles.MANAGER, False),
        (roles.AUDITOR, False),
    ],
)
def test_only_compliance_officers_and_administrators_register_sources_and_run_scans(
    role: str, may_write: bool
) -> None:
    user = UserFactory(role=role)

    assert user.has_perm("inventory.view_source")
    assert user.has_perm("inventory.add_source") is may_write
    assert user.has_perm("inventory.run_scan") is may_write


def test_only_administrators_may_delete_sources_or_manage_users() -> None:
    holders = {
        role
        for role in roles.ROLES
        if {"inventory.delete_source", "governance.add_user"}
        & _permission_names(Group.objects.get(name=role))
    }

    assert holders == {roles.ADMINISTRATOR}


def test_sync_roles_restores_drifted_permissions_and_creates_no_duplicates() -> None:
    auditor = Group.objects.get(name=roles.AUDITOR)
    auditor.permissions.add(Permission.objects.get(codename="delete_source"))
    manager = Group.objects.get(name=roles.MANAGER)
    manager.permissions.clear()

    # The migration runs sync_roles against the historical models; do the same here.
    roles.sync_roles(MigrationLoader(connection).project_state().apps)

    assert Group.objects.count() == len(roles.ROLES)
    assert _permission_names(auditor) == set(roles.ROLE_PERMISSIONS[roles.AUDITOR])
    assert _permission_names(manager) == set(roles.ROLE_PERMISSIONS[roles.MANAGER])


def test_organisation_wide_roles_are_the_auditor_the_administrator_and_legal() -> None:
    # Legal reviewers answer for personal data wherever the organisation holds it.
    assert (
        frozenset({roles.AUDITOR, roles.ADMINISTRATOR, roles.LEGAL_REVIEWER})
        == roles.ORGANISATION_WIDE_ROLES
    )
