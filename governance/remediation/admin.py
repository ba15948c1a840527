from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from governance.remediation.models import (
    DisposalDecision,
    QuarantineEntry,
    RemediationTask,
    SourcePolicy,
)


class _ReadOnly(admin.ModelAdmin):
    """Read-only: tasks, decisions and the quarantine change only through their services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(RemediationTask)
class RemediationTaskAdmin(_ReadOnly):
    list_display = ("pk", "action", "path", "status", "severity", "department", "due_date")
    list_filter = ("status", "action", "severity", "department")
    search_fields = ("path", "origin_label")


@admin.register(DisposalDecision)
class DisposalDecisionAdmin(_ReadOnly):
    list_display = ("pk", "asset", "keep_copy", "decided_by", "decided_at")


@admin.register(QuarantineEntry)
class QuarantineEntryAdmin(_ReadOnly):
    list_display = ("pk", "source", "original_path", "state", "quarantined_at")
    list_filter = ("state", "source")


@admin.register(SourcePolicy)
class SourcePolicyAdmin(_ReadOnly):
    list_display = ("source", "execution_enabled", "changed_by", "changed_at")
