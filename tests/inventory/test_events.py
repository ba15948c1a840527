"""Tests for inventory.events: the inventory says what changed, the site's listeners act."""

from __future__ import annotations

import pytest
from django.test import override_settings

from inventory.events import ChangeKind, InventoryChange, inventory_changed

heard: list[tuple[str, InventoryChange]] = []


def first_listener(change: InventoryChange) -> dict:
    heard.append(("first", change))
    return {"first": list(change.ids)}


def quiet_listener(change: InventoryChange) -> None:
    heard.append(("quiet", change))


@pytest.fixture(autouse=True)
def _clear() -> None:
    heard.clear()


@override_settings(
    PROVENA_INVENTORY_LISTENERS=[
        "tests.inventory.test_events.first_listener",
        "tests.inventory.test_events.quiet_listener",
    ]
)
def test_every_listener_hears_the_change_in_the_order_settings_name() -> None:
    summary = inventory_changed(kind=ChangeKind.SCAN_FINISHED, ids=[3, 4])

    assert [name for name, _ in heard] == ["first", "quiet"]
    assert heard[0][1] == InventoryChange(kind=ChangeKind.SCAN_FINISHED, ids=(3, 4))
    assert summary == {"first": [3, 4]}


@override_settings(PROVENA_INVENTORY_LISTENERS=[])
def test_with_no_listeners_a_change_is_announced_to_nobody() -> None:
    assert inventory_changed(kind=ChangeKind.FACES_FOUND) == {}
    assert heard == []


def test_the_site_names_remediation_before_privacy() -> None:
    from django.conf import settings

    assert settings.PROVENA_INVENTORY_LISTENERS == [
        "governance.remediation.listeners.on_inventory_changed",
        "governance.privacy.listeners.on_inventory_changed",
    ]
