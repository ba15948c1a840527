"""What the privacy review does when the inventory changes (PROVENA_INVENTORY_LISTENERS)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from governance.privacy.services.cases import privacy_cases_refresh
from inventory.events import ChangeKind, InventoryChange


def on_inventory_changed(change: InventoryChange) -> dict[str, Any] | None:
    """Open and update privacy cases when faces were found or photographs regrouped."""
    if change.kind == ChangeKind.FIXITY_CHECKED:
        return None
    if change.kind == ChangeKind.SCAN_FINISHED and not settings.PROVENA_FACES:
        # Without the face pass a scan found no new people; regrouping still moves cases.
        return None
    cases = privacy_cases_refresh()
    return {"privacy_cases": {"opened": cases.opened, "merged": cases.merged, "tasks": cases.tasks}}
