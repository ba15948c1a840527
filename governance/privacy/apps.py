"""Privacy review: identifiable people, legal decisions and data access requests."""

from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "governance.privacy"
    label = "privacy"
    verbose_name = "Privacy review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.privacy import checks  # noqa: F401 - registers the checks
