from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from governance.admin_readonly import ReadOnlyAdmin
from governance.models import AuditEvent, Department, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Provena", {"fields": ("department", "organisation_wide")}),
    )
    list_display = ("username", "email", "department", "organisation_wide", "is_active")
    list_filter = ("department", "organisation_wide", "groups", "is_active")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only and only services append to it."""

    list_display = ("seq", "occurred_at", "event_type", "agent", "object_type", "object_id")
    list_filter = ("event_type", "outcome", "object_type")
    search_fields = ("object_id", "agent", "hash")
