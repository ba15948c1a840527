"""People and organisation: departments and users; the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.roles import LEGAL_ONLY_PERMISSIONS, LEGAL_REVIEWER


class Department(models.Model):
    """A unit of the organisation that owns sources and remediation work."""

    code = models.CharField(max_length=32, unique=True, help_text="Short code, e.g. LCSD.")
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class User(AbstractUser):
    """A Provena user; sees its department's sources unless its role is organisation-wide."""

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    organisation_wide = models.BooleanField(
        default=False, help_text="Sees every department's sources, not just its own."
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="The interface language the user chose; blank follows the browser.",
    )

    def role_names(self) -> list[str]:
        """Return the names of the user's role groups."""
        return sorted(group.name for group in self.groups.all())

    def holds_legal_role(self) -> bool:
        """Return whether the user is an active member of the legal reviewer role."""
        if not self.is_active or self.pk is None:
            return False
        if not hasattr(self, "_legal_role_cache"):
            self._legal_role_cache = self.groups.filter(name=LEGAL_REVIEWER).exists()
        return self._legal_role_cache

    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool:
        """Return whether the user holds the permission; personal data needs the legal role."""
        if perm in LEGAL_ONLY_PERMISSIONS:
            # PDPO: faces, privacy cases, decisions and access requests are for the legal role
            # only. Django grants a superuser every permission; here that grants none of these.
            return self.holds_legal_role()
        return super().has_perm(perm, obj)


class AuditEvent(models.Model):
    """One append-only, hash-chained event on an object (PREMIS-style); never updated."""

    class EventType(models.TextChoices):
        # Add a member to record a new kind of event; the column has no choices, so no migration.
        DISCOVERED = "discovered", _("Discovered")
        FIXITY_COMPUTED = "fixity_computed", _("fixity computed")
        METADATA_EXTRACTED = "metadata_extracted", _("metadata extracted")
        MATCHED = "matched", _("Matched")
        MASTER_SET = "master_set", _("master set")
        MERGED = "merged", _("Merged")
        LINEAGE_CHANGED = "lineage_changed", _("lineage changed")
        SPLIT = "split", _("Split")
        LICENCE_ATTACHED = "licence_attached", _("licence attached")
        LICENCE_DETACHED = "licence_detached", _("licence detached")
        LICENCE_RECORDED = "licence_recorded", _("licence recorded")
        LICENCE_CHANGED = "licence_changed", _("licence changed")
        LICENCE_DELETED = "licence_deleted", _("licence deleted")
        SUPERSEDED = "superseded", _("Superseded")
        SUPERSESSION_WITHDRAWN = "supersession_withdrawn", _("supersession withdrawn")
        CATALOGUED = "catalogued", _("Catalogued")
        REVIEWED = "reviewed", _("Reviewed")
        REMEDIATED = "remediated", _("Remediated")
        DISPOSAL_DECIDED = "disposal_decided", _("disposal decided")
        QUARANTINED = "quarantined", _("Quarantined")
        RESTORED = "restored", _("Restored")
        PURGED = "purged", _("Purged")
        CITED_IN_REPORT = "cited_in_report", _("cited in report")
        SOURCE_REGISTERED = "source_registered", _("source registered")
        SCAN_FINISHED = "scan_finished", _("scan finished")
        SCAN_FAILED = "scan_failed", _("scan failed")
        PERSONAL_DATA_FOUND = "personal_data_found", _("personal data found")
        PRIVACY_CASE_OPENED = "privacy_case_opened", _("privacy case opened")
        PRIVACY_DECIDED = "privacy_decided", _("privacy decision")
        PRIVACY_APPROVED = "privacy_approved", _("privacy decision approved")
        PRIVACY_REJECTED = "privacy_rejected", _("privacy decision rejected")
        CONSENT_RECORDED = "consent_recorded", _("consent recorded")
        REDACTED = "redacted", _("Redacted")
        ACCESS_REQUEST_RECEIVED = "access_request_received", _("access request received")
        ACCESS_REQUEST_PHOTO = "access_request_photo", _("access request reference photo")
        ACCESS_REQUEST_SEARCHED = "access_request_searched", _("access request searched")
        ACCESS_REQUEST_MATCH = "access_request_match", _("access request match decided")
        # Before the reply became its own step, building the pack was recorded as this.
        ACCESS_REQUEST_RESPONDED = "access_request_responded", _("access request responded")
        ACCESS_REQUEST_PACK_BUILT = "access_request_pack_built", _("access request pack built")
        ACCESS_REQUEST_SENT = "access_request_sent", _("access request reply sent")
        ACCESS_REQUEST_REFUSED = "access_request_refused", _("access request refused")
        ACCESS_REQUEST_CLOSED = "access_request_closed", _("access request closed")
        ACCESS_REQUEST_REMINDED = "access_request_reminded", _("access request reminder sent")
        ACCESS_REQUEST_PURGED = "access_request_purged", _("access request data deleted")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        WARNING = "warning", _("Warning")

    seq = models.PositiveBigIntegerField(primary_key=True, help_text="1, 2, 3, ... with no gaps.")
    occurred_at = models.DateTimeField()
    event_type = models.CharField(max_length=40)
    # PROTECT: the chain hashes the user's id, so a user with events is deactivated, not deleted.
    agent_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    agent = models.CharField(max_length=150, help_text="The username, or the software version.")
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=100)
    source_id = models.BigIntegerField(
        null=True, blank=True, help_text="The source the object lies in, for department scoping."
    )
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.SUCCESS)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["event_type", "seq"]),
            models.Index(fields=["source_id", "seq"]),
        ]

    def __str__(self) -> str:
        return f"event {self.seq}: {self.event_type} {self.object_type} {self.object_id}"


class AuditChainHead(models.Model):
    """The one row holding the last event's seq and hash and the event count."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"audit chain head: {self.count} events, seq {self.seq}, {self.hash[:12]}"


class ApiToken(models.Model):
    """An API token of one user: stored as a SHA-256 digest, expiring, revocable.

    password_stamp is the user's session hash when the token was made: a password change
    alters it, and the token stops working (as Django does for sessions).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell it.")
    label = models.CharField(max_length=100, blank=True)
    password_stamp = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"token {self.prefix}… of {self.user}"
