"""The findings export, version 1 (DESIGN.md: a public interface)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from governance.csvsafe import csv_dict_writer
from inventory.models import Source
from inventory.selectors.groups import (
    EVERY_MEMBER,
    DuplicateGroup,
    GroupMember,
    MemberScope,
    duplicate_groups,
)
from inventory.selectors.people import PersonalData, personal_data_index
from inventory.selectors.reclaimable import reclaimable_storage
from inventory.selectors.sources import current_errors

SCHEMA = "provena.findings/1"
CSV_FIELDS = [
    "group",
    "asset",
    "source",
    "path",
    "sha256",
    "relation",
    "tier",
    "distance",
    "reviewed",
    "master_source",
    "master_path",
    "of_source",
    "of_path",
    "personal_data",
]


def _member(member: GroupMember) -> dict[str, Any]:
    row = {
        "source": member.copy.source.name,
        "path": member.copy.path,
        "sha256": member.copy.sha256,
        "relation": member.relation,
        "tier": member.tier,
        "distance": member.distance,
        "reviewed": member.reviewed,
        "retired": member.retired,
    }
    if member.of is not None:
        # The parent's kept copy; for exact_copy/same_pixels, the kept copy of this picture.
        row["of"] = {"source": member.of.source.name, "path": member.of.path}
    return row


def findings_document(*, sources: QuerySet[Source], scope: MemberScope = EVERY_MEMBER) -> dict:
    """Return the findings export for the given sources as a JSON-ready document, listing
    the group members the reader (scope) may see and counting the others."""
    sources = sources.select_related("department").order_by("name")
    groups = []
    personal = personal_data_index()
    for group in duplicate_groups(sources=sources, scope=scope):
        master = group.master
        groups.append(
            {
                "id": group.asset_id,
                "asset": group.asset_id,
                # None when the master lies in another department's source.
                "master": {"source": master.source.name, "path": master.path} if master else None,
                # "rule", "chosen" (a person chose it) or "fallback" (a person's choice is
                # unavailable; the rule stands in and the asset awaits review).
                "master_basis": group.master_basis,
                "members": [_member(m) for m in group.members],
                # Members in sources the reader may not see: counted, not listed.
                "other_department_copies": group.elsewhere,
                "reclaimable_bytes": group.reclaimable_bytes,
            }
        )
        _add_personal_data(groups[-1], group, personal)
    errors = [
        {"source": e.scan.source.name, "path": e.path, "error": e.error}
        for e in current_errors(sources=sources).order_by("scan__source__name", "path")
    ]
    storage = reclaimable_storage(sources=sources)
    return {
        "schema": SCHEMA,
        "generated_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Redundant byte and pixel copies held in these sources; superseded versions apart.
        "reclaimable_bytes": storage.reclaimable_bytes,
        "retired_bytes": storage.retired_bytes,
        "sources": [
            {
                "name": s.name,
                "root": s.root,
                "department": s.department.code if s.department else None,
                "risk_tier": s.risk_tier,
                "authoritative": s.authoritative,
            }
            for s in sources
        ],
        "groups": groups,
        "errors": errors,
    }


def _add_personal_data(entry: dict, group: DuplicateGroup, personal: PersonalData) -> None:
    """Add the group's personal_data and each member's; identifiability is the photograph's."""
    people = personal.people.get(group.asset_id, 0)
    for row in entry["members"]:
        row["personal_data"] = people > 0
    entry["personal_data"] = {
        "identifiable_people": people,
        # Every copy of the photograph, those in sources the reader may not see included.
        "holdings": len(group.members) + group.elsewhere if people else 0,
        "redacted": sum(1 for m in group.members if m.copy.pk in personal.redacted),
    }


def findings_csv_rows(document: dict) -> Iterator[dict]:
    """Yield one CSV row per group member of a findings document."""
    for group in document["groups"]:
        master = group["master"] or {"source": "", "path": ""}
        for member in group["members"]:
            yield {
                "group": group["id"],
                "asset": group["asset"],
                "source": member["source"],
                "path": member["path"],
                "sha256": member["sha256"],
                "relation": member["relation"],
                "tier": member["tier"],
                "distance": member["distance"],
                "reviewed": member["reviewed"],
                "master_source": master["source"],
                "master_path": master["path"],
                "of_source": member.get("of", {}).get("source", ""),
                "of_path": member.get("of", {}).get("path", ""),
                "personal_data": member["personal_data"],
            }


def findings_csv(document: dict) -> str:
    """Return the CSV form of a findings document."""
    out = io.StringIO()
    writer = csv_dict_writer(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(findings_csv_rows(document))
    return out.getvalue()
