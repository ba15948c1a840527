"""Labels for the codes pages show: states, tiers, statuses, object types, field names.

English pages show the codes themselves, as the findings export and the API name them
(`missing`, `certain`, `exact_copy`); other languages show the label. One table, translated
once (locale/*/LC_MESSAGES/django.po), used by every page through the `code_label` filter.
The relation codes' labels live with the relations (inventory/pairs/relations.py).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CODE_LABELS: dict[str, Promise] = {
    # copy states
    "present": _("present"),
    "missing": _("missing"),
    "quarantined": _("quarantined"),
    "removed": _("removed"),
    "restored": _("restored"),
    "purged": _("purged"),
    # tiers
    "certain": _("certain"),
    "probable": _("probable"),
    "possible": _("possible"),
    # match and review statuses
    "proposed": _("proposed"),
    "confirmed": _("confirmed"),
    "rejected": _("rejected"),
    "master": _("master"),
    # scan statuses
    "running": _("running"),
    "finished": _("finished"),
    "failed": _("failed"),
    "interrupted": _("interrupted"),
    # licence states
    "licensed": _("licensed"),
    "unlicensed": _("unlicensed"),
    "expired": _("expired"),
    "pending": _("pending"),
    "exposed": _("exposed"),
    # risk tiers
    "external": _("external-facing"),
    "internal": _("internal"),
    "archive": _("archive"),
    # object types in the audit log
    "source": _("source"),
    "scan": _("scan"),
    "copy": _("copy"),
    "rendition": _("rendition"),
    "asset": _("asset"),
    "match": _("match"),
    "licence": _("licence"),
    "report": _("report"),
    "privacy_case": _("privacy case"),
    "remediation_task": _("remediation task"),
    "access_request": _("data access request"),
    # an asset's catalogue fields
    "title": _("title"),
    "description": _("description"),
    "creator": _("creator"),
    "credit_line": _("credit line"),
    "rights_holder": _("rights holder"),
}


def code_label(code: object) -> str:
    """Return what people read for a code: the code in English, its label otherwise."""
    text = str(code)
    if (get_language() or "en").startswith("en"):
        return text
    label = CODE_LABELS.get(text)
    return str(label) if label is not None else text
