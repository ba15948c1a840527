"""Privacy cases, legal decisions, consent, personal-data views and data access requests."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PrivacyCase(models.Model):
    """An asset showing identifiable people that is held more than once, for a legal decision.

    The case is anchored on the rendition that opened it, so it follows the photograph through
    merges and splits; ``asset`` is kept current by the refresh that also opens cases.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting approval")
        DECIDED = "decided", _("Decided")
        ESCALATED = "escalated", _("Escalated")
        MERGED = "merged", _("merged into another case")

    anchor = models.ForeignKey(
        "inventory.Rendition", on_delete=models.PROTECT, related_name="privacy_cases"
    )
    asset = models.ForeignKey(
        "inventory.Asset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="privacy_cases",
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    opened_because = models.CharField(max_length=200)
    opened_at = models.DateTimeField()
    due_on = models.DateField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="privacy_cases",
    )
    # Refreshed after each scan: how many present copies, and whether any is external-facing.
    holdings = models.PositiveIntegerField(default=0)
    external = models.BooleanField(default=False)
    identifiable_faces = models.PositiveIntegerField(default=0)
    current_decision = models.ForeignKey(
        "PrivacyDecision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]
        permissions = [
            ("decide_privacycase", "Can decide privacy cases"),
            ("view_personal_image", "Can view images of identifiable people"),
        ]

    def __str__(self) -> str:
        return f"privacy case {self.pk}"


class ConsentRecord(models.Model):
    """Consent given by a data subject, on file elsewhere, with its expiry."""

    subject_reference = models.CharField(max_length=200)
    document_reference = models.CharField(max_length=200, help_text="Where the signed form is.")
    scope = models.TextField(blank=True)
    obtained_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("obtained_on")),
                name="consent_expires_after_obtained",
            )
        ]

    def __str__(self) -> str:
        return f"consent {self.document_reference} ({self.subject_reference})"

    def in_force_on(self, day: date) -> bool:
        return self.obtained_on <= day and (self.expires_on is None or self.expires_on >= day)


class PrivacyDecision(models.Model):
    """An immutable legal ruling on a privacy case; a later decision supersedes, never edits."""

    class Outcome(models.TextChoices):
        RETAIN_ALL = "retain_all", _("retain all (with legal basis)")
        RETAIN_MASTER_ONLY = "retain_master_only", _("retain the master only, remove other copies")
        RESTRICT_ACCESS = "restrict_access", _("restrict access")
        REDACT = "redact", _("redact (blur faces in a derivative)")
        DELETE_ALL = "delete_all", _("delete all copies")
        CONSENT_ON_FILE = "consent_on_file", _("consent on file")
        ESCALATE = "escalate", _("Escalate")

    DESTRUCTIVE = frozenset({"retain_master_only", "delete_all"})

    case = models.ForeignKey(PrivacyCase, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=24, choices=Outcome)
    reason = models.TextField()
    legal_basis = models.CharField(max_length=300, blank=True)
    consent = models.ForeignKey(
        ConsentRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    needs_approval = models.BooleanField(default=False)
    # The master copy and the copies the decision covered when it was made (id -> sha256).
    master_copy_id = models.BigIntegerField(null=True, blank=True)
    covered_copies = models.JSONField(default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on case {self.case_id}"

    @property
    def is_destructive(self) -> bool:
        return self.outcome in self.DESTRUCTIVE


class DecisionApproval(models.Model):
    """A second legal reviewer's approval or rejection of a destructive decision."""

    decision = models.OneToOneField(
        PrivacyDecision, on_delete=models.PROTECT, related_name="approval"
    )
    approved = models.BooleanField()
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{'approval' if self.approved else 'rejection'} of decision {self.decision_id}"


class Redaction(models.Model):
    """A derivative with faces blurred, written to the controlled redaction folder."""

    decision = models.ForeignKey(
        PrivacyDecision, on_delete=models.PROTECT, related_name="redactions"
    )
    rendition = models.ForeignKey(
        "inventory.Rendition", on_delete=models.PROTECT, related_name="redactions"
    )
    path = models.CharField(max_length=300, help_text="Relative to PROVENA_REDACTION_ROOT.")
    sha256 = models.CharField(max_length=64)
    faces = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "rendition"], name="one_redaction_each")
        ]

    def __str__(self) -> str:
        return self.path


class PersonalDataView(models.Model):
    """One look at an image of an identifiable person: who, when, which, how."""

    class Kind(models.TextChoices):
        THUMBNAIL = "thumbnail", _("Thumbnail")
        IMAGE = "image", _("full image")
        REDACTION = "redaction", _("Redaction")
        REFERENCE = "reference", _("reference photograph")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rendition = models.ForeignKey(
        "inventory.Rendition", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    detail = models.CharField(max_length=300, blank=True)
    viewed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-viewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} viewed {self.kind} {self.rendition_id}"


class DataAccessRequest(models.Model):
    """A data subject's request for the personal data held about them (40-day clock)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTIAL = "partial", _("partly answered (s19(2))")
        RESPONDED = "responded", _("answered")
        REFUSED = "refused", _("Refused")
        CLOSED = "closed", _("Closed")

    class Reminder(models.TextChoices):
        NONE = "", _("none")
        DUE_SOON = "due_soon", _("due soon")
        OVERDUE = "overdue", _("Overdue")

    # Still owed a (complete) reply: the clock and the reminders apply.
    AWAITING = frozenset({"open", "partial"})

    subject_reference = models.CharField(max_length=200)
    received_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the complete reply was sent to the data subject (not when a pack was built).
    responded_at = models.DateTimeField(null=True, blank=True)
    # The last reminder sent to the legal role, so each stage is sent once.
    reminder = models.CharField(max_length=16, choices=Reminder, default=Reminder.NONE, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(blank=True)
    # When the reference photos, candidates and pack files were deleted (retention period).
    data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        permissions = [("work_dataaccessrequest", "Can work data access requests")]

    def __str__(self) -> str:
        return f"data access request {self.pk} ({self.subject_reference})"


class ReferencePhoto(models.Model):
    """A photograph of the data subject, uploaded to find them in the archive."""

    request = models.ForeignKey(
        DataAccessRequest, on_delete=models.CASCADE, related_name="reference_photos"
    )
    path = models.CharField(max_length=300, help_text="Relative to PROVENA_MEDIA_ROOT.")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    # Every face found, as [left, top, width, height] in upright pixels; the one chosen.
    faces = models.JSONField(default=list)
    chosen_face = models.SmallIntegerField(null=True, blank=True)
    encoding = models.BinaryField(null=True, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class RequestCandidate(models.Model):
    """A face in the archive ranked against a request's reference photos, and the verdict."""

    request = models.ForeignKey(
        DataAccessRequest, on_delete=models.CASCADE, related_name="candidates"
    )
    face = models.ForeignKey("inventory.Face", on_delete=models.CASCADE, related_name="+")
    distance = models.FloatField()
    confirmed = models.BooleanField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["distance", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "face"], name="one_candidate_per_face")
        ]

    def __str__(self) -> str:
        return f"face {self.face_id} at {self.distance:.3f}"


class ResponsePack(models.Model):
    """The ZIP sent to the data subject: copies and locations as CSV, images with others blurred."""

    request = models.ForeignKey(
        DataAccessRequest, on_delete=models.PROTECT, related_name="response_packs"
    )
    path = models.CharField(max_length=300, help_text="Relative to PROVENA_MEDIA_ROOT.")
    sha256 = models.CharField(max_length=64)
    copies = models.PositiveIntegerField()
    images = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The ZIP is deleted after the retention period; the row stays as the record of what was sent.
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.path


class AccessRequestReply(models.Model):
    """A reply sent to the data subject: complete, or partial with written reasons (s19(2))."""

    class Kind(models.TextChoices):
        FULL = "full", _("complete reply")
        PARTIAL = "partial", _("partial reply with reasons (s19(2))")

    request = models.ForeignKey(DataAccessRequest, on_delete=models.PROTECT, related_name="replies")
    kind = models.CharField(max_length=16, choices=Kind)
    pack = models.ForeignKey(
        ResponsePack, null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    reasons = models.TextField(blank=True, help_text="Why the reply is not complete yet.")
    means = models.CharField(max_length=200, help_text="How it was sent: e-mail, post, by hand.")
    sent_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to request {self.request_id} on {self.sent_on}"


class AccessRequestRefusal(models.Model):
    """An entry of the refusal log (s27): a refused request, the ground and the reasons.

    s27 asks for the log to be kept at least four years: nothing in Provena deletes it, and the
    retention purge of a request's data leaves it (and the request's row) in place.
    """

    class Ground(models.TextChoices):
        IDENTITY = "identity", _("the requestor's identity is not established (s20(1)(a))")
        OTHERS_DATA = (
            "others_data",
            _("it would disclose another person's data without their consent (s20(1)(b))"),
        )
        LANGUAGE = "language", _("the request is not in Chinese or English (s20(3)(a))")
        NOT_LOCATABLE = (
            "not_locatable",
            _("information needed to locate the data was not supplied (s20(3)(b))"),
        )
        REPEATED = "repeated", _("it repeats earlier similar requests (s20(3)(c))")
        OTHER_CONTROLLER = (
            "other_controller",
            _("another data user controls the use of the data (s20(3)(d))"),
        )
        EXEMPTION = "exemption", _("an exemption in Part 8 of the Ordinance applies")
        OTHER = "other", _("other ground (named in the reasons)")

    request = models.OneToOneField(
        DataAccessRequest, on_delete=models.PROTECT, related_name="refusal"
    )
    ground = models.CharField(max_length=24, choices=Ground)
    reasons = models.TextField()
    notified_on = models.DateField(help_text="When the requestor was told, in writing.")
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    refused_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-refused_at", "-pk"]

    def __str__(self) -> str:
        return f"refusal of request {self.request_id} ({self.ground})"
