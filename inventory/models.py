"""The inventory: sources, scans, copies, renditions and assets (see DESIGN.md, glossary)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Source(models.Model):
    """A registered image store: a folder tree with a department and a risk tier."""

    class RiskTier(models.TextChoices):
        EXTERNAL = "external", "external-facing"
        INTERNAL = "internal", "internal"
        ARCHIVE = "archive", "archive"

    name = models.SlugField(max_length=100, unique=True)
    root = models.CharField(max_length=1024, unique=True, help_text="Absolute path of the tree.")
    department = models.ForeignKey(
        "governance.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sources",
    )
    risk_tier = models.CharField(max_length=16, choices=RiskTier, default=RiskTier.INTERNAL)
    authoritative = models.BooleanField(
        default=False, help_text="Holds masters: its copies are preferred as the master copy."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            ("run_scan", "Can run a scan of a source"),
            ("export_findings", "Can export the findings"),
        ]

    def __str__(self) -> str:
        return self.name


class Scan(models.Model):
    """One pass over a source, with its counters, timings and parameters."""

    class Status(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"
        INTERRUPTED = "interrupted"

    ACTIVE_STATUSES = (Status.RUNNING,)

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="scans")
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    software_version = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    failure_reason = models.TextField(blank=True)

    files_seen = models.PositiveIntegerField(default=0)
    bytes_seen = models.PositiveBigIntegerField(default=0)
    files_to_examine = models.PositiveIntegerField(default=0)
    files_examined = models.PositiveIntegerField(default=0)
    files_new = models.PositiveIntegerField(default=0)
    files_changed = models.PositiveIntegerField(default=0)
    files_unchanged = models.PositiveIntegerField(default=0)
    files_moved = models.PositiveIntegerField(default=0)
    files_missing = models.PositiveIntegerField(default=0)
    files_skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    duplicate_groups = models.PositiveIntegerField(default=0)
    reclaimable_bytes = models.PositiveBigIntegerField(default=0)
    timings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # Two scans of one source must never run at once.
            models.UniqueConstraint(
                fields=["source"], condition=Q(status="running"), name="one_running_scan_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.source}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ScanError(models.Model):
    """A file a scan could not inventory, with the reason."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="error_entries")
    path = models.TextField(help_text="Relative to the source root; undecodable bytes escaped.")
    error = models.TextField()

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["scan", "path"])]

    def __str__(self) -> str:
        return f"{self.path}: {self.error}"


class Asset(models.Model):
    """One photograph or work, holding its renditions."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"asset {self.pk}"


class Rendition(models.Model):
    """One distinct visual content; pixel-identical files share it."""

    pixel_hash = models.CharField(max_length=64, unique=True)
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="renditions"
    )
    format = models.CharField(max_length=16)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    mode = models.CharField(max_length=16)
    has_icc_profile = models.BooleanField(default=False)
    frame_count = models.PositiveIntegerField(default=1)
    orientation = models.PositiveSmallIntegerField(default=1)
    metadata = models.JSONField(default=dict)
    capture_time = models.DateTimeField(null=True, blank=True)
    phash = models.CharField(max_length=16, blank=True)
    dhash = models.CharField(max_length=16, blank=True)
    fingerprint_note = models.CharField(max_length=200, blank=True)
    thumbnail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.format} {self.width}x{self.height} ({self.pixel_hash[:12]})"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000


class Copy(models.Model):
    """One file at one path in one source."""

    class State(models.TextChoices):
        PRESENT = "present"
        MISSING = "missing"
        QUARANTINED = "quarantined"
        REMOVED = "removed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="copies")
    path = models.TextField(help_text="Relative to the source root, '/'-separated.")
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    rendition = models.ForeignKey(
        Rendition, null=True, blank=True, on_delete=models.PROTECT, related_name="copies"
    )
    problem = models.TextField(blank=True, help_text="Why the file is not an inventoried image.")
    state = models.CharField(max_length=16, choices=State, default=State.PRESENT)
    missing_since = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    first_seen_scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seen_scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["source_id", "path"]
        verbose_name_plural = "copies"
        constraints = [
            models.UniqueConstraint(fields=["source", "path"], name="one_copy_per_source_path"),
        ]
        indexes = [
            models.Index(fields=["sha256"]),
            models.Index(fields=["source", "state"]),
            models.Index(fields=["rendition", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.path}"

    @property
    def is_present(self) -> bool:
        return self.state == self.State.PRESENT

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
