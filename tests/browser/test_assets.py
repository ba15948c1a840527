"""The asset page in the browser: lineage, copies, overriding the master, the timeline."""

from __future__ import annotations

import pytest

from inventory.models import Asset, Copy
from tests.browser.helpers import expect, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REASON = "The 2019 backup is the scan the photo desk checked against the negative."


def astronaut() -> tuple[Asset, Copy, Copy]:
    """Return the astronaut's asset, its still (the rule's master) and its backup copy."""
    still = Copy.objects.select_related("rendition").get(
        source__name="film_archive", path="stills/astronaut.jpg"
    )
    backup = Copy.objects.get(source__name="film_archive", path="backup/2019-06/astronaut.jpg")
    return Asset.objects.get(pk=still.rendition.asset_id), still, backup


def thumbnails_served(page) -> list[int]:
    """Return the HTTP status of each thumbnail the lineage drawing shows."""
    return page.evaluate(
        "() => Promise.all([...document.querySelectorAll('svg.lineage image')]"
        ".map(i => fetch(i.getAttribute('href')).then(r => r.status)))"
    )


def test_compliance_officer_overrides_the_master_and_sees_it_on_the_timeline(
    page, shot, scanned_archive, role_users
) -> None:
    asset, still, backup = astronaut()
    log_in(page, "compliance")
    page.goto("/assets/?q=")
    page.locator(f'a[href="/assets/{asset.pk}/"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"asset {asset.pk}")

    # The lineage: the thumbnail is drawn as resized from the still, the master outlined.
    lineage = page.locator("svg.lineage")
    expect(lineage).to_be_visible()
    expect(lineage.locator("g.node")).to_have_count(asset.renditions.count())
    expect(lineage.locator("g.node.master")).to_have_attribute(
        "data-rendition", str(still.rendition_id)
    )
    edge = lineage.locator("g.edge.derived_from")
    expect(edge).to_have_count(1)
    expect(edge).to_have_attribute("data-end", str(still.rendition_id))
    expect(edge.locator("text")).to_have_text("resized")
    # Thumbnails only of the versions LCSD holds, every one of them served.
    expect(lineage.locator("image")).to_have_count(1)
    assert thumbnails_served(page) == [200]
    # The copies LCSD can see, the master marked.
    copies = page.locator("table", has=page.get_by_role("columnheader", name="Department"))
    expect(copies.locator("tbody tr")).to_have_count(2)
    master_row = copies.locator("tr", has=page.locator("td.path", has_text=still.path))
    expect(master_row.locator(".badge.certain")).to_have_text("master")
    shot(page, "asset")

    form = page.locator("form", has=page.get_by_role("button", name="Set master"))
    form.get_by_label("Copy").select_option(str(backup.pk))
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Set master").click()
    page.wait_for_load_state("load")

    expect(page.locator(".messages .success")).to_contain_text("Master recorded.")
    master = page.locator("dl.meta").first
    expect(master).to_contain_text(f"film_archive:{backup.path}")
    expect(master).to_contain_text("compliance on ")
    expect(master).to_contain_text(REASON)
    master_row = copies.locator("tr", has=page.locator("td.path", has_text=backup.path))
    expect(master_row.locator(".badge.certain")).to_have_text("master")
    timeline = page.locator("table.timeline tbody tr")
    entry = timeline.filter(has_text="master_set").first
    expect(entry.locator("td").nth(2)).to_have_text("compliance")
    expect(entry).to_contain_text(REASON)
    expect(entry).to_contain_text(backup.path)
    shot(page, "master-overridden")

    asset.refresh_from_db()
    assert asset.master_copy_id == backup.pk and asset.master_reason == REASON


def test_auditor_sees_the_asset_but_no_form_to_change_it(
    page, shot, scanned_archive, role_users
) -> None:
    asset, still, _backup = astronaut()
    log_in(page, "auditor")
    page.goto(f"/assets/{asset.pk}/")
    expect(page.locator("svg.lineage")).to_be_visible()
    assert thumbnails_served(page) == [200] * asset.renditions.count()
    # The auditor reads every department's copies.
    copies = page.locator("table", has=page.get_by_role("columnheader", name="Department"))
    expect(copies.locator("tbody tr")).to_have_count(
        Copy.objects.filter(rendition__asset=asset).count()
    )
    expect(page.get_by_role("button", name="Set master")).to_have_count(0)
    expect(page.locator(f'form[action="/assets/{asset.pk}/master/"]')).to_have_count(0)
    expect(page.get_by_role("heading", name="Correct the grouping")).to_have_count(0)
    shot(page, "auditor")
    asset.refresh_from_db()
    assert not asset.master_chosen
