"""Refuse to serve requests or run workers without a SECRET_KEY."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

_MESSAGE = "SECRET_KEY is not set"
_HINT = "set SECRET_KEY or SECRET_KEY_FILE (or PROVENA_DEBUG=true for a development-only default)"


def require_secret_key() -> None:
    """Raise at start-up of a server or worker when no SECRET_KEY is configured."""
    if settings.PROVENA_SECRET_KEY_MISSING:
        raise ImproperlyConfigured(f"{_MESSAGE}; {_HINT}")


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs) -> list[Error]:
    """Report a missing SECRET_KEY in manage.py check --deploy."""
    if not settings.PROVENA_SECRET_KEY_MISSING:
        return []
    return [Error(_MESSAGE, hint=_HINT, id="provena.E001")]
