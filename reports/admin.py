from __future__ import annotations

from django.contrib import admin

from governance.admin_readonly import ReadOnlyAdmin
from reports.models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """The registry, read-only: reports are built by the service, never edited or deleted by
    hand (a deleted row would make a genuine signed report fail verification)."""

    list_display = ["number", "kind", "status", "signed", "created_by", "created_at", "size"]
    list_filter = ["kind", "status", "signed"]
    search_fields = ["number", "sha256", "signer_subject"]
