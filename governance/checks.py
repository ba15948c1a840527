"""Refuse to serve requests or run workers without a SECRET_KEY; warn of a filling disk."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.template.defaultfilters import filesizeformat

from governance.files import free_bytes

_MESSAGE = "SECRET_KEY is not set"
_HINT = "set SECRET_KEY or SECRET_KEY_FILE (or PROVENA_DEBUG=true for a development-only default)"


def require_secret_key() -> None:
    """Raise at start-up of a server or worker when no SECRET_KEY is configured."""
    if settings.PROVENA_SECRET_KEY_MISSING:
        raise ImproperlyConfigured(f"{_MESSAGE}; {_HINT}")


@register(Tags.security, deploy=True)
def secret_key_check(app_configs: object, **kwargs: object) -> list[Error]:
    """Report a missing SECRET_KEY in manage.py check --deploy."""
    if not settings.PROVENA_SECRET_KEY_MISSING:
        return []
    return [Error(_MESSAGE, hint=_HINT, id="provena.E001")]


def low_space_warning(*, label: str, folder: Path, check_id: str) -> list[Warning]:
    """Return a warning when the volume holding folder has less free than
    PROVENA_MIN_FREE_BYTES (a full volume fails scans and moves; docs/operations.md)."""
    minimum = settings.PROVENA_MIN_FREE_BYTES
    try:
        free = free_bytes(folder)
    except OSError:
        return []  # an unreadable folder is reported where it is used, with its reason
    if free >= minimum:
        return []
    return [
        Warning(
            f"{label} {folder} has {filesizeformat(free)} free, less than "
            f"PROVENA_MIN_FREE_BYTES ({filesizeformat(minimum)})",
            hint="free space on its volume or move it to a larger one; a full volume stops "
            "scans (media root) and refuses quarantine moves",
            id=check_id,
        )
    ]


@register()
def media_root_space_check(app_configs: object, **kwargs: object) -> list[Warning]:
    """Warn in manage.py check when the media root is short of space."""
    return low_space_warning(
        label="the media root", folder=settings.PROVENA_MEDIA_ROOT, check_id="provena.W001"
    )
