"""What remediation does when the inventory changes (listed in PROVENA_INVENTORY_LISTENERS)."""

from __future__ import annotations

from typing import Any

from governance.remediation.services.verification import remediation_tasks_verify
from inventory.events import ChangeKind, InventoryChange
from inventory.models import Source


def on_inventory_changed(change: InventoryChange) -> dict[str, Any] | None:
    """Verify the tasks of a scanned or fixity-checked source against what is now on disk."""
    if change.kind not in (ChangeKind.SCAN_FINISHED, ChangeKind.FIXITY_CHECKED):
        return None
    outcomes = {}
    for source in Source.objects.filter(pk__in=change.ids).order_by("pk"):
        # A scan or a fixity check is the evidence remediation tasks are verified by.
        outcomes[source.pk] = remediation_tasks_verify(source=source).as_dict()
    if len(outcomes) == 1:
        return {"remediation": next(iter(outcomes.values()))}
    return {"remediation": outcomes}
