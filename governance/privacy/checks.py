"""System checks for the privacy settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def face_key_present(app_configs: object, **kwargs: object) -> list[Error]:
    """Refuse face encodings without the key that encrypts them."""
    if settings.PROVENA_FACE_ENCODINGS and not settings.PROVENA_FACE_KEY:
        return [
            Error(
                "PROVENA_FACE_ENCODINGS is on but PROVENA_FACE_KEY is not set",
                hint="Generate a key with `manage.py generate_face_key` and put it in "
                "PROVENA_FACE_KEY or a file named by PROVENA_FACE_KEY_FILE.",
                id="provena.E010",
            )
        ]
    return []
