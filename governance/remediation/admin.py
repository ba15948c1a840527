from __future__ import annotations

from django.contrib import admin

from governance.admin_readonly import ReadOnlyAdmin
from governance.remediation.models import (
    DisposalDecision,
    QuarantineEntry,
    RemediationTask,
    SourcePolicy,
)


@admin.register(RemediationTask)
class RemediationTaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "action", "path", "status", "severity", "department", "due_date")
    list_filter = ("status", "action", "severity", "department")
    search_fields = ("path", "origin_label")


@admin.register(DisposalDecision)
class DisposalDecisionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "asset", "keep_copy", "decided_by", "decided_at")


@admin.register(QuarantineEntry)
class QuarantineEntryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "source", "original_path", "state", "quarantined_at")
    list_filter = ("state", "source")


@admin.register(SourcePolicy)
class SourcePolicyAdmin(ReadOnlyAdmin):
    list_display = ("source", "execution_enabled", "changed_by", "changed_at")
