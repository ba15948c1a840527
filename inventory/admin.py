from __future__ import annotations

from django.contrib import admin

from inventory.models import Copy, Rendition, Scan, ScanError, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "root", "department", "risk_tier", "authoritative")
    list_filter = ("department", "risk_tier", "authoritative")
    search_fields = ("name", "root")


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "status", "started_at", "files_seen", "errors")
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in Scan._meta.fields]


@admin.register(ScanError)
class ScanErrorAdmin(admin.ModelAdmin):
    list_display = ("scan", "path", "error")
    readonly_fields = ("scan", "path", "error")


@admin.register(Copy)
class CopyAdmin(admin.ModelAdmin):
    list_display = ("path", "source", "size", "state", "sha256")
    list_filter = ("state", "source")
    search_fields = ("path", "sha256")
    # The inventory is evidence: copies change only through scans and recorded remediation.
    readonly_fields = [f.name for f in Copy._meta.fields]


@admin.register(Rendition)
class RenditionAdmin(admin.ModelAdmin):
    list_display = ("pixel_hash", "format", "width", "height", "asset")
    search_fields = ("pixel_hash",)
    readonly_fields = [f.name for f in Rendition._meta.fields]
