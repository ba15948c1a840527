from __future__ import annotations

from django.contrib import admin

from governance.admin_readonly import ReadOnlyAdmin
from inventory.models import (
    Asset,
    CatalogueNumber,
    Copy,
    Licence,
    Rendition,
    Scan,
    ScanError,
    Source,
    Supersession,
)


@admin.register(Source)
class SourceAdmin(ReadOnlyAdmin):
    list_display = ("name", "root", "department", "risk_tier", "authoritative")
    list_filter = ("department", "risk_tier", "authoritative")
    search_fields = ("name", "root")


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ("pk", "source", "status", "started_at", "files_seen", "errors")
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in Scan._meta.fields]


@admin.register(ScanError)
class ScanErrorAdmin(ReadOnlyAdmin):
    list_display = ("scan", "path", "error")
    readonly_fields = ("scan", "path", "error")


@admin.register(Copy)
class CopyAdmin(ReadOnlyAdmin):
    list_display = ("path", "source", "size", "state", "sha256")
    list_filter = ("state", "source")
    search_fields = ("path", "sha256")
    # The inventory is evidence: copies change only through scans and recorded remediation.
    readonly_fields = [f.name for f in Copy._meta.fields]


@admin.register(Rendition)
class RenditionAdmin(ReadOnlyAdmin):
    list_display = ("pixel_hash", "format", "width", "height", "asset")
    search_fields = ("pixel_hash",)
    readonly_fields = [f.name for f in Rendition._meta.fields]


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("pk", "title", "creator", "master_copy", "master_needs_review")
    list_filter = ("master_needs_review",)
    search_fields = ("title", "catalogue_numbers__number")
    readonly_fields = [f.name for f in Asset._meta.fields]


@admin.register(CatalogueNumber)
class CatalogueNumberAdmin(ReadOnlyAdmin):
    list_display = ("scheme", "number", "asset")
    search_fields = ("scheme", "number")
    readonly_fields = ("asset", "scheme", "number", "created_at")


@admin.register(Supersession)
class SupersessionAdmin(ReadOnlyAdmin):
    list_display = ("newer", "older", "asset", "created_by", "created_at")
    readonly_fields = [f.name for f in Supersession._meta.fields]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ("licensor", "reference", "start", "end", "cost", "currency")
    list_filter = ("licensor",)
    search_fields = ("licensor", "reference")
    filter_horizontal = ("departments", "sources")
    readonly_fields = ("created_by", "created_at")
