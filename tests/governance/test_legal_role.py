"""Personal data is for the legal role itself (issue 18, item 2): a Django superuser, who holds
every other permission, holds none of the legal role's, and the demo administrator is not one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from governance import roles
from governance.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_superuser_holds_no_legal_only_permission_and_every_other_one() -> None:
    root = UserFactory(username="root", department=None, is_superuser=True, is_staff=True)
    legal = UserFactory(role=roles.LEGAL_REVIEWER)

    assert roles.LEGAL_ONLY_PERMISSIONS
    for perm in roles.LEGAL_ONLY_PERMISSIONS:
        assert not root.has_perm(perm), perm
        assert legal.has_perm(perm), perm
    # Superuser status still means what Django says for everything else.
    assert root.has_perm("inventory.delete_source")
    assert root.has_perm("governance.change_user")


def test_a_legal_permission_given_to_a_user_directly_grants_nothing() -> None:
    officer = UserFactory(role=roles.COMPLIANCE_OFFICER)
    permission = Permission.objects.get(
        content_type__app_label="privacy", codename="view_privacycase"
    )
    officer.user_permissions.add(permission)
    officer = User.objects.get(pk=officer.pk)  # drop the permission caches

    assert not officer.has_perm("privacy.view_privacycase")


def test_an_inactive_legal_reviewer_holds_nothing() -> None:
    legal = UserFactory(role=roles.LEGAL_REVIEWER, is_active=False)

    assert not legal.has_perm("privacy.view_privacycase")


def test_the_demo_administrator_is_staff_but_not_a_superuser_and_sees_no_privacy_case(
    archives, settings, client: Client
) -> None:
    settings.DEBUG = True
    call_command("setup_demo", archive=str(archives / "demo"), no_scan=True, stdout=StringIO())
    admin = User.objects.get(username="admin")

    assert admin.is_staff and not admin.is_superuser
    assert admin.groups.filter(name=roles.ADMINISTRATOR).exists()
    client.force_login(admin)
    assert client.get("/privacy/").status_code == 403
    assert client.get("/privacy/requests/").status_code == 403
    assert client.get("/api/privacy/cases/").status_code == 403
    assert "Privacy</a>" not in client.get("/").content.decode()
