from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The registry, read-only: reports are built by the service, never edited by hand."""

    list_display = ["number", "kind", "status", "signed", "created_by", "created_at", "size"]
    list_filter = ["kind", "status", "signed"]
    search_fields = ["number", "sha256", "signer_subject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False
