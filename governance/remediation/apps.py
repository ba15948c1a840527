from __future__ import annotations

from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "governance.remediation"
    label = "remediation"
    verbose_name = "Remediation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.remediation import checks  # noqa: F401  (registers the system checks)
