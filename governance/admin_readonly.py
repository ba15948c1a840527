"""The Django admin's base for domain models: it shows them and changes nothing."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show a domain model in the admin without add, change or delete.

    Domain rows change only through their services, which check the rules (allowed roots,
    departments, who may) and append to the audit log; an edit in the admin would do neither
    (a source's root moved outside PROVENA_ALLOWED_ROOTS, a report's registry row deleted).
    """

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
