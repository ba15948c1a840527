"""Say once what changed in the inventory; the site decides who listens.

Remediation and privacy build on the inventory, so the inventory never calls them: it names
what changed (`inventory_changed(kind=..., ids=...)`) and every listener listed in the
setting `PROVENA_INVENTORY_LISTENERS` (governance/settings.py) runs in order, each a service
of its own app. A listener returns a summary for the scan's timings, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


class ChangeKind(StrEnum):
    """What happened in the inventory that other apps may care about."""

    SCAN_FINISHED = "scan_finished"  # ids: the scanned source
    FIXITY_CHECKED = "fixity_checked"  # ids: the checked sources
    ASSETS_REGROUPED = "assets_regrouped"  # ids: the assets whose renditions changed
    FACES_FOUND = "faces_found"  # ids: the renditions whose faces were (re)classified


@dataclass(frozen=True, slots=True)
class InventoryChange:
    """One announcement: its kind and the ids of what changed."""

    kind: ChangeKind
    ids: tuple[int, ...]


Listener = Callable[[InventoryChange], Mapping[str, Any] | None]


def _listeners() -> list[Listener]:
    return [import_string(dotted) for dotted in settings.PROVENA_INVENTORY_LISTENERS]


def inventory_changed(*, kind: ChangeKind, ids: Iterable[int] = ()) -> dict[str, Any]:
    """Tell every configured listener what changed; return their summaries merged in order."""
    change = InventoryChange(kind=kind, ids=tuple(ids))
    summary: dict[str, Any] = {}
    for listener in _listeners():
        outcome = listener(change)
        if outcome:
            summary.update(outcome)
    return summary
