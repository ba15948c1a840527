"""The inventory: sources, scans, copies, renditions and assets (see DESIGN.md, glossary).

One module on purpose, though it is longer than the others: these models are one schema
with foreign keys running both ways (a copy's rendition, a rendition's asset, an asset's
master copy), read together in every query, and Django's migrations name them by app.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.pairs.relations import MATCH_RELATIONS


class Source(models.Model):
    """A registered image store: a folder tree with a department and a risk tier."""

    class RiskTier(models.TextChoices):
        EXTERNAL = "external", _("external-facing")
        INTERNAL = "internal", _("internal")
        ARCHIVE = "archive", _("archive")

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
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

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

    @property
    def rate(self) -> float | None:
        """Return files examined per second so far (None before the first batch)."""
        end = self.finished_at or self.heartbeat_at
        if not end or not self.files_examined:
            return None
        seconds = (end - self.started_at).total_seconds()
        return self.files_examined / seconds if seconds > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Return the expected seconds until every new or changed file is examined."""
        rate = self.rate
        if not self.is_running or not rate:
            return None
        return max(self.files_to_examine - self.files_examined, 0) / rate


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


class ScanBatch(models.Model):
    """One batch of a scan's new or changed files, examined and recorded as a unit.

    Recording a batch marks it done in the same transaction, so a batch that runs twice (a
    retry, a redelivered Celery task) records nothing the second time.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    paths = models.JSONField(help_text="Relative paths of the files to examine, in order.")
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(
        default=0, help_text="How many times a runner took the batch (more than one: a retry)."
    )
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid of the last runner.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scan_id", "index"]
        verbose_name_plural = "scan batches"
        constraints = [
            models.UniqueConstraint(fields=["scan", "index"], name="one_batch_per_scan_index"),
        ]
        indexes = [
            # The coordinator counts a scan's pending batches every second.
            models.Index(
                fields=["scan"], condition=Q(status="pending"), name="scanbatch_pending_by_scan"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.index} of scan {self.scan_id}"


class Asset(models.Model):
    """One photograph or work: its renditions, master, catalogue record and licences.

    The master fields hold a person's choice only; without one the master follows the rule
    (settings.PROVENA_MASTER_RULE, see inventory.master_rule).
    """

    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    creator = models.CharField(max_length=300, blank=True)
    credit_line = models.CharField(max_length=500, blank=True)
    rights_holder = models.CharField(max_length=300, blank=True)

    master_rendition = models.ForeignKey(
        "Rendition", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    master_copy = models.ForeignKey(
        "Copy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    master_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    master_set_at = models.DateTimeField(null=True, blank=True)
    master_reason = models.TextField(blank=True)
    # Set by the software when a person's chosen master stops holding (its copy went missing,
    # its rendition left the asset, two chosen masters met in a merge); cleared by a person.
    master_needs_review = models.BooleanField(default=False)
    master_review_reason = models.TextField(blank=True)
    # The master rule's proposal, kept so a change of proposal is recorded (an audit event)
    # when the rule's inputs change; set by the software only (inventory.services.lineage).
    proposed_master_copy = models.ForeignKey(
        "Copy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    CATALOGUE_FIELDS = ("title", "description", "creator", "credit_line", "rights_holder")

    class Meta:
        permissions = [("set_master", "Can choose an asset's master copy")]
        indexes = [
            models.Index(
                fields=["master_rendition"],
                condition=Q(master_rendition__isnull=False),
                name="asset_with_chosen_master",
            ),
        ]

    def __str__(self) -> str:
        return f"asset {self.pk}"

    @property
    def master_chosen(self) -> bool:
        """Return whether a person chose the master (rather than the rule)."""
        return self.master_rendition_id is not None


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
    # Near-duplicate fingerprints (inventory.imaging.fingerprints): uint64 arrays, little-endian,
    # with comma-separated variant codes. Keys go into the index; probes query it.
    fp_keys = models.BinaryField(null=True, blank=True, editable=False)
    fp_key_codes = models.CharField(max_length=500, blank=True, editable=False)
    fp_probes = models.BinaryField(null=True, blank=True, editable=False)
    fp_probe_codes = models.CharField(max_length=500, blank=True, editable=False)
    # When this rendition last went through candidate search (None: not yet).
    matched_at = models.DateTimeField(null=True, blank=True)
    # The face pass (inventory.imaging.faces): when it ran, under which policy, and what it found.
    faces_checked_at = models.DateTimeField(null=True, blank=True)
    face_policy = models.CharField(max_length=100, blank=True)
    face_problem = models.TextField(blank=True)
    identifiable_faces = models.PositiveSmallIntegerField(default=0)
    # Personal data other than faces: {"gps": [lat, lon], "names": [...]} from the metadata.
    personal_signals = models.JSONField(default=dict, blank=True)
    # Lineage (inventory.lineage): the rendition this one was made from, the match that says
    # so (relation, tier, evidence), and the picture's original resolution in pixels: what
    # the content had before any upscale, border, caption band or canvas was added.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_match = models.ForeignKey(
        "Match", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_area = models.PositiveBigIntegerField(null=True, blank=True)
    # Faces are looked for once per photograph: on its largest rendition, and carried onto
    # the others through their registrations. Set on a rendition whose faces were carried
    # from this one (inventory.services.face_carry); None where they were detected.
    faces_carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.format} {self.width}x{self.height} ({self.pixel_hash[:12]})"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000


class Copy(models.Model):
    """One file at one path in one source."""

    class State(models.TextChoices):
        PRESENT = "present", _("Present")
        MISSING = "missing", _("Missing")
        QUARANTINED = "quarantined", _("Quarantined")
        REMOVED = "removed", _("Removed")

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
    # Set by the fixity check; a changed file keeps its recorded sha256 and fixity_ok=False.
    fixity_checked_at = models.DateTimeField(null=True, blank=True)
    fixity_ok = models.BooleanField(
        null=True, blank=True, help_text="Whether the last fixity check matched the recorded hash."
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

    # For code that only sees decoded copies (the copies of an asset, a group, a match):
    # their rendition is never None, and saying so beats an unchecked attribute access.
    @property
    def decoded_rendition(self) -> Rendition:
        """Return the copy's rendition; ValueError for a file that was never decoded."""
        if self.rendition is None:
            raise ValueError(f"{self} was never decoded: it has no rendition")
        return self.rendition

    @property
    def decoded_rendition_id(self) -> int:
        """Return the copy's rendition id without loading it; ValueError as decoded_rendition."""
        if self.rendition_id is None:
            raise ValueError(f"{self} was never decoded: it has no rendition")
        return self.rendition_id

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def modified_at(self) -> datetime:
        """Return the file's modification time as recorded by the last scan."""
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


class Match(models.Model):
    """A proposed relation between two renditions, with tier, relation type and evidence."""

    class Tier(models.TextChoices):
        CERTAIN = "certain", _("Certain")
        PROBABLE = "probable", _("Probable")
        POSSIBLE = "possible", _("Possible")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")  # a person said: the same photograph
        REJECTED = (
            "rejected",
            _("Rejected"),
        )  # a person said: different photographs; never proposed again

    RELATIONS = MATCH_RELATIONS  # defined, with labels, in inventory/pairs/relations.py

    # rendition_a has the smaller id; "original" says which side the evidence takes as source.
    rendition_a = models.ForeignKey(Rendition, on_delete=models.CASCADE, related_name="+")
    rendition_b = models.ForeignKey(Rendition, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=16, choices=Tier)
    relation = models.CharField(max_length=32)
    score = models.FloatField()
    distance = models.PositiveSmallIntegerField(help_text="pHash Hamming distance of the pair.")
    original = models.CharField(max_length=1, blank=True, help_text="'a', 'b' or '' (unknown).")
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status, default=Status.PROPOSED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "pk"]
        permissions = [("review_match", "Can decide whether two renditions are one photograph")]
        constraints = [
            models.UniqueConstraint(
                fields=["rendition_a", "rendition_b"], name="one_match_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(rendition_a__lt=models.F("rendition_b")), name="match_pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "tier"]),
            models.Index(fields=["rendition_b"]),
        ]

    def __str__(self) -> str:
        return f"{self.rendition_a_id}~{self.rendition_b_id} {self.tier} {self.relation}"

    @property
    def joins_asset(self) -> bool:
        """Return whether this match places both renditions with one photograph."""
        if self.status == self.Status.REJECTED:
            return False
        return self.status == self.Status.CONFIRMED or self.tier != self.Tier.POSSIBLE


class MatchDecision(models.Model):
    """An immutable ruling on a match; a later decision supersedes, never edits."""

    class Verdict(models.TextChoices):
        SAME = "same", _("same photograph")
        DIFFERENT = "different", _("different photographs")

    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="decisions")
    verdict = models.CharField(max_length=16, choices=Verdict)
    relation = models.CharField(max_length=32, blank=True)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.match} -> {self.verdict}"


class Supersession(models.Model):
    """A person's statement that a newer rendition replaces an older one (which is retired).

    The older rendition is retired while both renditions belong to one asset and the
    statement stands; nothing is deleted. A withdrawn statement is kept, marked with who
    withdrew it, when and why. The asset is the one both belonged to when the statement was
    made, kept current by regrouping.
    """

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="supersessions")
    newer = models.ForeignKey(Rendition, on_delete=models.PROTECT, related_name="supersedes")
    older = models.ForeignKey(Rendition, on_delete=models.PROTECT, related_name="superseded_by")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A withdrawn statement stays on record; the pair may be stated again.
            models.UniqueConstraint(
                fields=["newer", "older"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_standing_supersession_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(newer=models.F("older")), name="supersession_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"rendition {self.newer_id} supersedes {self.older_id}"

    @property
    def standing(self) -> bool:
        """Return whether the statement still holds (it was not withdrawn)."""
        return self.withdrawn_at is None


class CatalogueNumber(models.Model):
    """One of the numbers an archive files an asset under (any number per asset)."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="catalogue_numbers")
    scheme = models.CharField(max_length=100, help_text="The catalogue or numbering scheme.")
    number = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="one_catalogue_number"),
        ]
        indexes = [models.Index(fields=["number"])]

    def __str__(self) -> str:
        return f"{self.scheme} {self.number}"


def _default_currency() -> str:
    return settings.PROVENA_COST_CURRENCY


class Licence(models.Model):
    """Rights bought for assets: who granted them, for what uses, where and until when.

    A licence covers the copies held in the sources it lists and in the sources of the
    departments it lists; a copy of a licensed asset held anywhere else is exposed.
    """

    licensor = models.CharField(max_length=300)
    reference = models.CharField(max_length=200, help_text="The licensor's or our reference.")
    permitted_uses = models.TextField(blank=True)
    departments = models.ManyToManyField(
        "governance.Department", blank=True, related_name="licences"
    )
    sources = models.ManyToManyField(Source, blank=True, related_name="licences")
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="Empty: no end date.")
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=8, default=_default_currency)
    assets = models.ManyToManyField(
        Asset, through="LicenceAttachment", blank=True, related_name="licences"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["licensor", "reference", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="licence_ends_after_it_starts",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="licence_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.licensor} {self.reference}"

    def in_force_on(self, day: date) -> bool:
        """Return whether the licence runs on this day."""
        return self.start <= day and (self.end is None or self.end >= day)


class LicenceAttachment(models.Model):
    """A licence attached to an asset, by whom and when."""

    # PROTECT: a licence attached to assets is a rights record; detach it (audited) first.
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="attachments")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="licence_attachments")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attached_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["licence", "asset"], name="one_attachment_per_asset"),
        ]

    def __str__(self) -> str:
        return f"{self.licence} on {self.asset}"


class Face(models.Model):
    """A face found in a rendition: its box in original, upright pixels, size and score.

    Face data is personal data: only the legal role may read it. The 128-d encoding is
    stored only when PROVENA_FACE_ENCODINGS is on, encrypted with PROVENA_FACE_KEY.
    """

    rendition = models.ForeignKey(Rendition, on_delete=models.CASCADE, related_name="faces")
    # Box in the rendition's pixels after EXIF orientation, at full size.
    left = models.PositiveIntegerField()
    top = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    score = models.FloatField()
    identifiable = models.BooleanField(default=False)
    encoding = models.BinaryField(null=True, blank=True, editable=False)
    # Carried from the photograph's largest rendition through a registration, not detected
    # here: identifiable when that face is (the same person, however small the copy).
    carried = models.BooleanField(default=False)

    class Meta:
        ordering = ["rendition_id", "left", "top"]
        indexes = [models.Index(fields=["rendition", "identifiable"])]

    def __str__(self) -> str:
        return f"face {self.width}x{self.height} at {self.left},{self.top} in {self.rendition_id}"

    @property
    def size(self) -> int:
        return min(self.width, self.height)


class CatalogueImportJob(models.Model):
    """A catalogue CSV too large to import while the request waits: imported in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100.")
    step = models.CharField(max_length=100, blank=True)
    rows = models.PositiveIntegerField(default=0)
    assets_changed = models.PositiveIntegerField(default=0)
    written = models.BooleanField(default=False)
    outcome = models.JSONField(
        default=dict, help_text="Problems with the file and the rows that cannot be applied."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"catalogue import {self.pk} ({self.file_name})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
