"""People and organisation: departments and users."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Department(models.Model):
    """A unit of the organisation that owns sources and remediation work."""

    code = models.CharField(max_length=32, unique=True, help_text="Short code, e.g. LCSD.")
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class User(AbstractUser):
    """A Provena user; sees its department's sources unless its role is organisation-wide."""

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    organisation_wide = models.BooleanField(
        default=False, help_text="Sees every department's sources, not just its own."
    )

    def role_names(self) -> list[str]:
        """Return the names of the user's role groups."""
        return sorted(group.name for group in self.groups.all())
