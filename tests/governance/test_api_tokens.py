"""API tokens expire, can be listed and revoked by their owner, and die with a password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import ApiToken

pytestmark = pytest.mark.django_db


def issue(username: str = "compliance", **extra) -> dict:
    response = APIClient().post(
        "/api/token/", {"username": username, "password": "test-password", **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def call(key: str, path: str = "/api/sources/"):
    return APIClient().get(path, HTTP_AUTHORIZATION=f"Token {key}")


def test_a_token_expires_after_the_configured_days(role_users, settings) -> None:
    settings.PROVENA_API_TOKEN_DAYS = 7
    before = timezone.now()
    issued = issue()
    token = ApiToken.objects.get(pk=issued["id"])
    assert before + timedelta(days=7) <= token.expires_at <= timezone.now() + timedelta(days=7)
    assert call(issued["token"]).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = call(issued["token"])
    assert response.status_code == 401
    assert "Token expired on" in response.json()["detail"]
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_only_a_digest_of_the_key_is_stored(role_users) -> None:
    issued = issue()
    token = ApiToken.objects.get(pk=issued["id"])
    assert issued["token"] not in {token.digest, token.prefix}
    assert issued["token"].startswith(token.prefix)


def test_a_password_change_drops_every_token_of_the_user(role_users) -> None:
    first, second = issue(), issue()
    other = issue("legal")
    user = role_users["compliance"]

    user.set_password("a-new-long-passphrase")
    user.save()

    response = call(first["token"])
    assert response.status_code == 401
    assert "the password was changed" in response.json()["detail"]
    assert call(second["token"]).status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()
    assert call(other["token"], "/api/audit-events/").status_code != 401


def test_a_user_lists_their_own_tokens_without_keys(role_users) -> None:
    mine = issue(label="nightly export")
    issue("legal")
    client = APIClient()
    client.force_authenticate(role_users["compliance"])

    listed = client.get("/api/tokens/").json()

    assert [(t["id"], t["label"]) for t in listed] == [(mine["id"], "nightly export")]
    assert "token" not in listed[0] and "digest" not in listed[0]


def test_a_user_revokes_a_token_through_the_api_and_it_stops_working(role_users) -> None:
    issued = issue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued['token']}")

    assert client.delete(f"/api/tokens/{issued['id']}/").status_code == 204

    assert call(issued["token"]).status_code == 401


def test_nobody_revokes_another_users_token(role_users) -> None:
    theirs = issue("legal")
    client = APIClient()
    client.force_authenticate(role_users["administrator"])

    response = client.delete(f"/api/tokens/{theirs['id']}/")

    assert response.status_code == 404
    assert call(theirs["token"], "/api/audit-events/").status_code != 401


def test_the_tokens_page_lists_and_revokes(role_users) -> None:
    issued = issue(label="cron on archive-01")
    client = Client()
    client.force_login(role_users["compliance"])

    page = client.get("/account/tokens/").content.decode()
    assert "cron on archive-01" in page and f"{issued['token'][:8]}…" in page
    assert issued["token"] not in page

    response = client.post(f"/account/tokens/{issued['id']}/revoke/", follow=True)

    assert "Token revoked" in response.content.decode()
    assert "cron on archive-01" not in response.content.decode()
    assert call(issued["token"]).status_code == 401


def test_a_token_of_drfs_old_kind_no_longer_opens_the_api(role_users) -> None:
    from rest_framework.authtoken.models import Token

    old = Token.objects.create(user=role_users["compliance"])

    assert call(old.key).status_code == 401
