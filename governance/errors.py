"""Turn a service's validation error into one line a page can show."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def validation_text(exc: ValidationError) -> str:
    """Return the error's messages on one line, each field's prefixed with its name."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            " ".join(messages) if field == "__all__" else f"{field}: {' '.join(messages)}"
            for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
