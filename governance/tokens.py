"""API tokens: issue, list, revoke, and authenticate them (expiring, dropped on a new password).

A token is 40 random hexadecimal characters shown once, when it is issued; only its SHA-256
is stored. It expires PROVENA_API_TOKEN_DAYS after it was issued. It also stops working
when its user's password changes (any way: a page, the admin, `changepassword`), because it
carries the user's session hash from when it was issued; the next use deletes such tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from governance.models import ApiToken, User

# Recording every use would write on every API call; once a minute is enough to show it.
_LAST_USED_STEP = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _current(tokens: QuerySet[ApiToken], user: User) -> QuerySet[ApiToken]:
    return tokens.filter(expires_at__gt=timezone.now(), password_stamp=user.get_session_auth_hash())


@transaction.atomic
def api_token_issue(*, user: User, label: str = "") -> tuple[ApiToken, str]:
    """Issue a new token for the user; return it and its key (shown once, never stored)."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=_digest(key),
        prefix=key[:8],
        label=label[:100],
        password_stamp=user.get_session_auth_hash(),
        expires_at=timezone.now() + timedelta(days=settings.PROVENA_API_TOKEN_DAYS),
    )
    # Expired tokens and those of an old password are of no use to anyone: drop them now.
    ApiToken.objects.filter(user=user).exclude(
        pk__in=_current(user.api_tokens.all(), user)
    ).delete()
    return token, key


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """Return the user's tokens that still work, newest first."""
    return _current(ApiToken.objects.filter(user=user), user)


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; return whether there was one to revoke."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_tokens_drop(*, user: User) -> int:
    """Delete every token of the user; return how many there were."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token KEY` for tokens issued by api_token_issue (DRF's keyword, 401s)."""

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if not constant_time_compare(token.password_stamp, user.get_session_auth_hash()):
            # Every token issued before the change is dead: drop them all, not just this one.
            ApiToken.objects.filter(user=user).exclude(
                password_stamp=user.get_session_auth_hash()
            ).delete()
            raise exceptions.AuthenticationFailed(
                "Token no longer valid: the password was changed; ask for a new token at "
                "/api/token/."
            )
        now = timezone.now()
        if token.expires_at <= now:
            token.delete()
            raise exceptions.AuthenticationFailed(
                f"Token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new token "
                "at /api/token/."
            )
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_STEP:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
