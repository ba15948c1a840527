"""Remediation: the work decisions create, per copy, and the files Provena moved to quarantine."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RemediationTask(models.Model):
    """The work one decision asks for on one copy, with its owner, due date and verification."""

    class Action(models.TextChoices):
        REMOVE_DUPLICATE = "remove_duplicate", _("remove duplicate copy")
        QUARANTINE = "quarantine", _("quarantine")
        REPLACE_WITH_REFERENCE = (
            "replace_with_reference",
            _("replace with a reference to the master"),
        )
        RESTRICT_ACCESS = "restrict_access", _("restrict access")
        APPLY_REDACTION = "apply_redaction", _("apply a redaction")
        RETIRE_OLD_VERSION = "retire_old_version", _("retire old version")
        CORRECT_METADATA = "correct_metadata", _("correct metadata")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        VERIFIED = "verified", _("verified")
        WAIVED = "waived", _("waived")

    class Severity(models.IntegerChoices):
        # Lower sorts first: personal data in an external-facing source is the first job.
        CRITICAL = 1, _("critical")
        HIGH = 2, _("high")
        MEDIUM = 3, _("medium")
        LOW = 4, _("low")

    # Work still to do (verified and waived tasks are closed; done awaits its evidence).
    OUTSTANDING = (Status.OPEN, Status.IN_PROGRESS, Status.DONE)
    CLOSED = (Status.VERIFIED, Status.WAIVED)
    # Actions whose work takes the copy away from its path (Provena may carry these out).
    REMOVALS = (Action.REMOVE_DUPLICATE, Action.QUARANTINE, Action.RETIRE_OLD_VERSION)

    origin_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    origin_id = models.PositiveBigIntegerField()
    origin = GenericForeignKey("origin_type", "origin_id")
    origin_label = models.CharField(max_length=300, help_text="The decision, in words.")
    # PROTECT: a task is a record of a decision's consequence; the copy row stays with it.
    copy = models.ForeignKey(
        "inventory.Copy", on_delete=models.PROTECT, related_name="remediation_tasks"
    )
    action = models.CharField(max_length=32, choices=Action)
    personal_data = models.BooleanField(default=False)
    severity = models.PositiveSmallIntegerField(choices=Severity, default=Severity.MEDIUM)
    note = models.TextField(blank=True)
    # The copy as it was when the decision was made: execution refuses any other bytes.
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    path = models.TextField(help_text="The copy's path at the decision, relative to its source.")

    department = models.ForeignKey(
        "governance.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="remediation_tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="remediation_tasks",
    )
    due_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    status_changed_at = models.DateTimeField()
    waived_reason = models.TextField(blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True, help_text="What verified the task.")
    reopened = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["severity", "due_date", "pk"]
        permissions = [
            ("assign_remediationtask", "Can assign and reschedule remediation tasks"),
            ("waive_remediationtask", "Can waive remediation tasks"),
            ("execute_remediation", "Can quarantine, restore and purge files"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["origin_type", "origin_id", "copy", "action"],
                name="one_task_per_origin_copy_action",
            ),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waived_reason=""),
                name="waived_task_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["origin_type", "origin_id"]),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.get_action_display()} {self.path}"

    @property
    def is_outstanding(self) -> bool:
        return self.status in self.OUTSTANDING

    def is_overdue(self, today: date) -> bool:
        """Return whether the work is late: open or in progress past its due date."""
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS) and self.due_date < today


class TaskChange(models.Model):
    """One change to a task (status, owner, due date), who made it and why; never edited."""

    task = models.ForeignKey(RemediationTask, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    detail = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"task {self.task_id}: {self.from_status or '-'} -> {self.to_status}"


class DisposalDecision(models.Model):
    """A ruling that an asset's redundant copies go: keep one copy, remove exact and
    same-pixel copies of it, retire superseded versions; never crops. Immutable."""

    asset = models.ForeignKey("inventory.Asset", on_delete=models.PROTECT, related_name="+")
    keep_copy = models.ForeignKey("inventory.Copy", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    plan = models.JSONField(default=list, help_text="The copies and actions, as decided.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"disposal decision {self.pk} on asset {self.asset_id}"


class SourcePolicy(models.Model):
    """Whether Provena may carry out removals in a source itself (off unless switched on)."""

    source = models.OneToOneField(
        "inventory.Source", on_delete=models.CASCADE, related_name="remediation_policy"
    )
    execution_enabled = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "source policies"

    def __str__(self) -> str:
        state = "on" if self.execution_enabled else "off"
        return f"execution {state} for {self.source_id}"


class QuarantineEntry(models.Model):
    """One file Provena moved out of a source into the quarantine root, and what became of it."""

    class State(models.TextChoices):
        QUARANTINED = "quarantined", _("Quarantined")
        RESTORED = "restored", _("Restored")
        PURGED = "purged", _("Purged")

    task = models.ForeignKey(
        RemediationTask, on_delete=models.PROTECT, related_name="quarantine_entries"
    )
    copy = models.ForeignKey("inventory.Copy", on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey("inventory.Source", on_delete=models.PROTECT, related_name="+")
    original_path = models.TextField(help_text="Relative to the source root, '/'-separated.")
    quarantine_path = models.TextField(help_text="Relative to the quarantine root.")
    sha256_before = models.CharField(max_length=64)
    sha256_after = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=State, default=State.QUARANTINED)
    quarantined_at = models.DateTimeField()
    quarantined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purged_at = models.DateTimeField(null=True, blank=True)
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-quarantined_at", "-pk"]
        verbose_name_plural = "quarantine entries"
        indexes = [models.Index(fields=["state", "quarantined_at"])]

    def __str__(self) -> str:
        return f"quarantine entry {self.pk}: {self.original_path} ({self.state})"
