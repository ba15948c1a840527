"""The report registry: every generated report with its scope, file digest and signer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """A generated PDF report and what it was built from (DESIGN.md, glossary: Report)."""

    class Kind(models.TextChoices):
        AUDIT = "audit", _("Inventory and duplication audit")
        PRIVACY = "privacy", _("Personal-data holdings")
        REMEDIATION = "remediation", _("Remediation progress")
        MERGE_READINESS = "merge_readiness", _("Merge readiness")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    number = models.CharField(max_length=32, unique=True, help_text="e.g. PR-2026-0001")
    kind = models.CharField(max_length=16, choices=Kind)
    scope = models.JSONField(
        default=dict, help_text="Sources, departments and period asked for, and sources resolved."
    )
    sign_requested = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    software_version = models.CharField(max_length=32, blank=True)

    file = models.CharField(
        max_length=255, blank=True, help_text="Relative to PROVENA_MEDIA_ROOT/reports/."
    )
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the final (signed) file.")

    signed = models.BooleanField(default=False)
    signer_subject = models.CharField(max_length=500, blank=True)
    signer_certificate = models.TextField(blank=True, help_text="PEM of the signing certificate.")
    signer_certificate_sha256 = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    timestamped = models.BooleanField(default=False)

    audit_head_hash = models.CharField(max_length=64, blank=True)
    audit_head_seq = models.PositiveBigIntegerField(null=True, blank=True)
    audit_event_count = models.PositiveBigIntegerField(null=True, blank=True)
    figures = models.JSONField(default=dict, help_text="The key figures as printed.")
    timings = models.JSONField(default=dict, help_text="Seconds per build stage.")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("build_report", "Can build a report")]
        indexes = [models.Index(fields=["sha256"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.FINISHED

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def file_name(self) -> str:
        return f"{self.number}.pdf"


class ReportNumberCounter(models.Model):
    """The last report number issued in a year; it only goes up, so no number is reused.

    Deleting a registry row (it should never happen: the admin refuses it) would otherwise let
    the next report take the deleted one's number, and two different PDFs would claim it.
    """

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"PR-{self.year}: last {self.last:04d}"
