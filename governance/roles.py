"""The roles (auth groups) and the permissions each one holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from governance.models import User

COMPLIANCE_OFFICER = "compliance officer"
LEGAL_REVIEWER = "legal reviewer"
MANAGER = "manager"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"
ROLES = (COMPLIANCE_OFFICER, LEGAL_REVIEWER, MANAGER, AUDITOR, ADMINISTRATOR)
# The group names stay English (they are data); people read these labels.
ROLE_LABELS = {
    COMPLIANCE_OFFICER: _("compliance officer"),
    LEGAL_REVIEWER: _("legal reviewer"),
    MANAGER: _("manager"),
    AUDITOR: _("auditor"),
    ADMINISTRATOR: _("administrator"),
}


def role_label(name: str) -> str:
    """Return the label people read for a role (its group name if it is not one of ours)."""
    return str(ROLE_LABELS.get(name, name))


# Roles that see every department's sources.
# Legal reviewers answer for personal data held anywhere in the organisation (PDPO).
ORGANISATION_WIDE_ROLES = frozenset({AUDITOR, ADMINISTRATOR, LEGAL_REVIEWER})

_READ_INVENTORY = [
    "inventory.view_source",
    "inventory.view_scan",
    "inventory.view_scanerror",
    "inventory.view_copy",
    "inventory.view_rendition",
    "inventory.view_asset",
    "inventory.view_match",
    "inventory.view_matchdecision",
    "inventory.view_supersession",
    "inventory.view_cataloguenumber",
    "inventory.view_licence",
    "inventory.view_licenceattachment",
    "governance.view_department",
    "governance.view_auditevent",
]

# Choosing masters, merging, splitting, recording versions and the catalogue; licences.
_CURATE_ASSETS = [
    "inventory.set_master",
    "inventory.change_asset",
    "inventory.add_licence",
    "inventory.change_licence",
    "inventory.delete_licence",
]

# Every role reads and downloads reports (verifying one needs only a login).
_READ_REPORTS = ["reports.view_report"]

# Remediation: every role reads tasks, decisions and the quarantine; managers assign,
# reschedule and waive; compliance officers update status, decide disposals and execute.
_READ_REMEDIATION = [
    "remediation.view_remediationtask",
    "remediation.view_taskchange",
    "remediation.view_disposaldecision",
    "remediation.view_sourcepolicy",
    "remediation.view_quarantineentry",
]
_MANAGE_REMEDIATION = [
    "remediation.assign_remediationtask",
    "remediation.waive_remediationtask",
]
_DO_REMEDIATION = [
    "remediation.change_remediationtask",
    "remediation.add_disposaldecision",
    "remediation.execute_remediation",
]

# Personal data: faces, images of identifiable people, privacy cases, consent and data access
# requests are for the legal role only (PDPO); other roles see faces blurred in thumbnails.
_LEGAL_PRIVACY = [
    "inventory.view_face",
    "privacy.view_privacycase",
    "privacy.change_privacycase",
    "privacy.decide_privacycase",
    "privacy.view_personal_image",
    "privacy.view_privacydecision",
    "privacy.view_decisionapproval",
    "privacy.view_consentrecord",
    "privacy.add_consentrecord",
    "privacy.view_redaction",
    "privacy.view_personaldataview",
    "privacy.view_dataaccessrequest",
    "privacy.add_dataaccessrequest",
    "privacy.change_dataaccessrequest",
    "privacy.work_dataaccessrequest",
    "privacy.view_referencephoto",
    "privacy.view_requestcandidate",
    "privacy.view_responsepack",
    "privacy.view_accessrequestreply",
    "privacy.view_accessrequestrefusal",
]

# Held only through the legal role itself: superuser status grants none of them
# (governance.models.User.has_perm), nor does a permission given to a user directly.
LEGAL_ONLY_PERMISSIONS = frozenset(_LEGAL_PRIVACY)

# Permission codenames as "app_label.codename".
ROLE_PERMISSIONS: dict[str, list[str]] = {
    COMPLIANCE_OFFICER: [
        *_READ_INVENTORY,
        "inventory.add_source",
        "inventory.change_source",
        "inventory.run_scan",
        "inventory.export_findings",
        "inventory.review_match",
        *_CURATE_ASSETS,
        *_READ_REPORTS,
        "reports.build_report",
        *_READ_REMEDIATION,
        *_DO_REMEDIATION,
    ],
    LEGAL_REVIEWER: [
        *_READ_INVENTORY,
        "inventory.export_findings",
        *_READ_REPORTS,
        *_READ_REMEDIATION,
        *_LEGAL_PRIVACY,
    ],
    MANAGER: [
        *_READ_INVENTORY,
        "inventory.export_findings",
        *_READ_REPORTS,
        *_READ_REMEDIATION,
        *_MANAGE_REMEDIATION,
    ],
    AUDITOR: [*_READ_INVENTORY, "inventory.export_findings", *_READ_REPORTS, *_READ_REMEDIATION],
    ADMINISTRATOR: [
        *_READ_INVENTORY,
        "inventory.add_source",
        "inventory.change_source",
        "inventory.delete_source",
        "inventory.run_scan",
        "inventory.export_findings",
        "inventory.review_match",
        *_CURATE_ASSETS,
        "governance.add_department",
        "governance.change_department",
        "governance.view_user",
        "governance.add_user",
        "governance.change_user",
        *_READ_REPORTS,
        "reports.build_report",
        *_READ_REMEDIATION,
        *_MANAGE_REMEDIATION,
        *_DO_REMEDIATION,
        "remediation.change_sourcepolicy",
    ],
}


def sync_roles(apps: Any) -> None:
    """Create the role groups and give each exactly its permissions (for data migrations)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # An early migration runs before a later model (and its permissions) exists; the
            # migration that adds the model syncs again, and tests/governance/test_roles.py
            # checks the final sets.
            if permission is not None:
                permissions.append(permission)
        group.permissions.set(permissions)


def is_organisation_wide(*, user: User) -> bool:
    """Return whether the user sees every department's sources."""
    return bool(
        user.is_superuser
        or user.organisation_wide
        or user.groups.filter(name__in=ORGANISATION_WIDE_ROLES).exists()
    )
